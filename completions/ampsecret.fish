complete --keep-order --exclusive --command ampsecret --arguments "(AMPSECRET_COMPLETE=fish ampsecret -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
