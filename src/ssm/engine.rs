//! Applies a push: writes and deletes run concurrently, paced by one governor, with a
//! progress bar on a terminal. Every job ends as applied or failed; nothing is dropped.

use super::client::{BATCH_LIMIT, Ssm};
use super::failure::CallError;
use super::governor::Governor;
use super::tags::TagStep;
use crate::secret::SecretValue;
use aws_sdk_ssm::types::ParameterTier;
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One secret to write.
pub struct PutJob {
    pub name: String,
    pub parameter: String,
    pub value: SecretValue,
    pub tier: Option<ParameterTier>,
}

/// What happened to one name.
#[derive(Debug)]
pub enum Outcome {
    Written { version: i64 },
    Deleted,
    Failed(CallError),
}

/// Write options shared by all jobs.
pub struct Apply<'a> {
    pub ssm: &'a Ssm,
    pub governor: &'a Governor,
    pub concurrency: usize,
    pub kms_key_id: Option<&'a str>,
    pub show_progress: bool,
}

impl Apply<'_> {
    /// Runs all writes, then the deletes in batches of ten. Returns `(name, outcome)` for
    /// every job, in no particular order.
    pub async fn run(
        &self,
        puts: Vec<PutJob>,
        deletes: Vec<(String, String)>,
    ) -> Vec<(String, Outcome)> {
        let progress = self.progress_bar((puts.len() + deletes.len()) as u64);
        let bar = &progress;
        let mut results: Vec<(String, Outcome)> = stream::iter(puts)
            .map(|job| async move {
                let outcome = match self
                    .ssm
                    .put(
                        self.governor,
                        &job.parameter,
                        &job.value,
                        job.tier.clone(),
                        self.kms_key_id,
                    )
                    .await
                {
                    Ok(version) => Outcome::Written { version },
                    Err(error) => Outcome::Failed(error),
                };
                bar.inc(1);
                bar.set_message(format!("{:.1} writes/s", self.governor.rate()));
                (job.name, outcome)
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;

        let batches: Vec<Vec<(String, String)>> =
            deletes.chunks(BATCH_LIMIT).map(<[_]>::to_vec).collect();
        let deleted: Vec<Vec<(String, Outcome)>> = stream::iter(batches)
            .map(|batch| async move {
                let parameters: Vec<String> = batch.iter().map(|(_, p)| p.clone()).collect();
                let result = self.ssm.delete_batch(self.governor, &parameters).await;
                bar.inc(batch.len() as u64);
                batch
                    .into_iter()
                    .map(|(name, _)| {
                        let outcome = match &result {
                            Ok(()) => Outcome::Deleted,
                            Err(error) => Outcome::Failed(error.clone()),
                        };
                        (name, outcome)
                    })
                    .collect()
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        results.extend(deleted.into_iter().flatten());
        progress.finish_and_clear();
        results
    }

    /// Adds each job's tags to its parameter, paced by the same governor as the writes.
    /// Returns `(name, result)` for every job, in no particular order.
    pub async fn tag(&self, jobs: Vec<TagStep>) -> Vec<(String, Result<(), CallError>)> {
        stream::iter(jobs)
            .map(|job| async move {
                let result = self
                    .ssm
                    .add_tags(self.governor, &job.parameter, &job.change.add)
                    .await;
                (job.name, result)
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await
    }

    fn progress_bar(&self, len: u64) -> ProgressBar {
        if !self.show_progress {
            return ProgressBar::hidden();
        }
        // indicatif draws only when stderr is a terminal.
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg} ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar
    }
}
