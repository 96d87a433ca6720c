
set edit:completion:arg-completer[ampsecret] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) AMPSECRET_COMPLETE="elvish" ampsecret -- $@words) | to-lines
}

