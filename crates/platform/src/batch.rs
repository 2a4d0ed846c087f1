//! Work that many requests ask for at the same moment, done for all of them at once: the requests
//! waiting when one statement starts are answered by the next, together. A crowd (an on-sale's
//! opening: thousands of requests within a second) then costs a few statements instead of a
//! statement, a pool connection and a round trip each, and the requests do not queue for the pool's
//! connections to be counted or recognised. Alone, a request waits for nothing: its batch is itself.
//! A request that gives up while it waits (its caller gone, its time out) is left out of its batch;
//! once its batch has started, its work is done, as a transaction sent to commit would be.
//!
//! Used by the per-client rate limit ([`crate::ratelimit::PerClient`]), by authentication, and by
//! purchases paid at once (`ticketing::orders::together`, in lanes).

use std::future::Future;
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt as _;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// What a [`Batcher`] does for a batch of requests.
pub trait Work: Send + Sync + 'static {
    /// What one request asks.
    type Ask: Send + 'static;
    /// What it is answered.
    type Answer: Send + 'static;

    /// Answers every ask of `batch`, in the batch's order; an error of the whole batch (the database
    /// unavailable, say) answers each of its requests.
    fn answer(
        &self,
        batch: &[Self::Ask],
    ) -> impl Future<Output = Result<Vec<Result<Self::Answer, ApiError>>, ApiError>> + Send;
}

/// Answers the requests asking at once together (see the module's documentation): one batch at a
/// time (or a few, [`Batcher::with_lanes`]), of at most `most` requests, each batch those that
/// arrived while the last one ran.
pub struct Batcher<W: Work> {
    work: Arc<W>,
    most: usize,
    lanes: usize,
    /// Requests waiting for the next batch; the task that answers them starts with the first.
    queue: OnceLock<mpsc::UnboundedSender<Waiting<W>>>,
}

/// A request waiting for its batch, and where its answer goes.
struct Waiting<W: Work> {
    ask: W::Ask,
    answer: oneshot::Sender<Result<W::Answer, ApiError>>,
}

impl<W: Work> Batcher<W> {
    pub fn new(work: W, most: usize) -> Self {
        Self::with_lanes(work, most, 1)
    }

    /// A batcher answering up to `lanes` batches at the same time: for work that waits on round trips
    /// to the database (where one batch at a time would leave the machine idle between them), a new
    /// batch starts with what is waiting as soon as a lane is free.
    pub fn with_lanes(work: W, most: usize, lanes: usize) -> Self {
        Self { work: Arc::new(work), most: most.max(1), lanes: lanes.max(1), queue: OnceLock::new() }
    }

    /// The work this batcher does.
    pub fn work(&self) -> &W {
        &self.work
    }

    /// Asks, and waits for the answer of the batch the ask joins. The task answering the batches
    /// ends when the batcher is dropped.
    pub async fn ask(&self, ask: W::Ask) -> Result<W::Answer, ApiError> {
        let queue = self.queue.get_or_init(|| {
            let (send, waiting) = mpsc::unbounded_channel();
            tokio::spawn(answer_batches(self.work.clone(), waiting, self.most, self.lanes));
            send
        });
        let (answer, answered) = oneshot::channel();
        queue.send(Waiting { ask, answer }).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ApiError {
    ApiError::internal(anyhow::anyhow!("a batcher's task stopped"))
}

async fn answer_batches<W: Work>(
    work: Arc<W>,
    mut waiting: mpsc::UnboundedReceiver<Waiting<W>>,
    most: usize,
    lanes: usize,
) {
    let lanes = Arc::new(tokio::sync::Semaphore::new(lanes));
    // Whatever arrived while a lane was busy is the next batch; the loop ends with the batcher.
    loop {
        let Ok(lane) = lanes.clone().acquire_owned().await else { return };
        let mut batch = Vec::new();
        if waiting.recv_many(&mut batch, most).await == 0 {
            return;
        }
        let work = work.clone();
        tokio::spawn(async move {
            answer_batch(&*work, batch).await;
            drop(lane);
        });
    }
}

async fn answer_batch<W: Work>(work: &W, mut batch: Vec<Waiting<W>>) {
    // A request that gave up while it waited (its caller gone, its time out) is not worked on.
    batch.retain(|w| !w.answer.is_closed());
    if batch.is_empty() {
        return;
    }
    let (asks, answers): (Vec<_>, Vec<_>) = batch.into_iter().map(|w| (w.ask, w.answer)).unzip();
    // A batch whose work panics fails its requests, not the batcher: the next batch is answered.
    let answered = std::panic::AssertUnwindSafe(work.answer(&asks)).catch_unwind().await;
    match answered.unwrap_or_else(|_| Err(ApiError::internal(anyhow::anyhow!("a batch's work panicked")))) {
        Ok(answered) if answered.len() == answers.len() => {
            for (answer, result) in answers.into_iter().zip(answered) {
                let _ = answer.send(result);
            }
        }
        Ok(answered) => {
            let failed = ApiError::internal(anyhow::anyhow!(
                "a batch of {} was given {} answers",
                answers.len(),
                answered.len()
            ));
            tell_each(answers, &failed);
        }
        Err(failed) => tell_each(answers, &failed),
    }
}

fn tell_each<A>(answers: Vec<oneshot::Sender<Result<A, ApiError>>>, failed: &ApiError) {
    for answer in answers {
        let _ = answer.send(Err(failed.copied()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Doubles numbers, noting each batch's size; refuses a batch holding 13, answers a batch
    /// holding 7 with one answer too few, and panics on 99.
    #[derive(Default)]
    struct Double {
        batches: Mutex<Vec<usize>>,
    }

    impl Work for Double {
        type Ask = u32;
        type Answer = u32;

        async fn answer(&self, batch: &[u32]) -> Result<Vec<Result<u32, ApiError>>, ApiError> {
            self.batches.lock().unwrap().push(batch.len());
            tokio::task::yield_now().await;
            assert!(!batch.contains(&99), "a bug in the work");
            if batch.contains(&13) {
                return Err(ApiError::new(crate::PlatformCode::DatabaseUnavailable, "unlucky"));
            }
            let mut answers: Vec<_> =
                batch.iter().map(|n| if *n == 5 { Err(ApiError::not_found("five")) } else { Ok(n * 2) }).collect();
            if batch.contains(&7) {
                answers.pop();
            }
            Ok(answers)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_ask_gets_its_own_answer_and_a_crowd_shares_batches() {
        let batcher = Arc::new(Batcher::new(Double::default(), 64));
        let asks: Vec<u32> = (100..1100).collect();
        let answers = ask_all(batcher.clone(), asks.clone()).await;
        for (ask, answer) in asks.iter().zip(answers) {
            assert_eq!(answer.expect("answered"), ask * 2);
        }
        let batches = batcher.work().batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 1000, "every ask answered once: {batches:?}");
        assert!(batches.iter().all(|n| *n <= 64), "no batch over the limit: {batches:?}");
        assert!(batches.len() < 1000 / 2, "asks at once share batches: {} batches", batches.len());
    }

    #[tokio::test]
    async fn one_answer_refused_refuses_that_ask_and_a_batch_refused_or_panicking_refuses_each() {
        let batcher = Batcher::new(Double::default(), 64);
        assert_eq!(batcher.ask(5).await.expect_err("five").status(), axum::http::StatusCode::NOT_FOUND);
        assert_eq!(batcher.ask(6).await.expect("six"), 12);
        let unlucky = batcher.ask(13).await.expect_err("a failed batch");
        assert_eq!((unlucky.code(), unlucky.detail()), ("database_unavailable", "unlucky"));
        let short = batcher.ask(7).await.expect_err("a batch answered short");
        assert_eq!(short.code(), "internal_error");
        let panicked = batcher.ask(99).await.expect_err("a batch whose work panicked");
        assert_eq!(panicked.code(), "internal_error");
        assert_eq!(batcher.ask(8).await.expect("the batcher goes on"), 16);
    }

    /// Counts the batches running at once.
    #[derive(Default)]
    struct Overlap {
        running: std::sync::atomic::AtomicUsize,
        most_at_once: std::sync::atomic::AtomicUsize,
    }

    impl Work for Overlap {
        type Ask = u32;
        type Answer = u32;

        async fn answer(&self, batch: &[u32]) -> Result<Vec<Result<u32, ApiError>>, ApiError> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.running.fetch_add(1, SeqCst) + 1;
            self.most_at_once.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.running.fetch_sub(1, SeqCst);
            Ok(batch.iter().map(|n| Ok(n + 1)).collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lanes_answer_that_many_batches_at_once_and_never_more() {
        for lanes in [1, 3] {
            let batcher = Arc::new(Batcher::with_lanes(Overlap::default(), 4, lanes));
            let tasks: Vec<_> = (0..60)
                .map(|n| {
                    let batcher = batcher.clone();
                    tokio::spawn(async move { (n, batcher.ask(n).await) })
                })
                .collect();
            for task in tasks {
                let (n, answer) = task.await.unwrap();
                assert_eq!(answer.expect("answered"), n + 1);
            }
            let most = batcher.work().most_at_once.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(most, lanes, "{lanes} lane(s): batches at once");
        }
    }

    /// Notes every ask it is given, after holding its lane a while.
    #[derive(Default)]
    struct Slow {
        seen: Mutex<Vec<u32>>,
    }

    impl Work for Slow {
        type Ask = u32;
        type Answer = u32;

        async fn answer(&self, batch: &[u32]) -> Result<Vec<Result<u32, ApiError>>, ApiError> {
            self.seen.lock().unwrap().extend(batch);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            Ok(batch.iter().map(|n| Ok(*n)).collect())
        }
    }

    #[tokio::test]
    async fn a_request_that_gave_up_while_it_waited_is_not_worked_on() {
        let batcher = Arc::new(Batcher::new(Slow::default(), 64));
        let first = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.ask(1).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // Asked while the first batch runs, and given up before it ends.
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(20), batcher.ask(2)).await;
        assert!(gave_up.is_err(), "still waiting when it gave up");
        let waited = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.ask(3).await }
        });
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(waited.await.unwrap().unwrap(), 3);
        assert_eq!(*batcher.work().seen.lock().unwrap(), vec![1, 3], "the ask given up was never worked on");
    }

    async fn ask_all(batcher: Arc<Batcher<Double>>, asks: Vec<u32>) -> Vec<Result<u32, ApiError>> {
        let tasks: Vec<_> = asks
            .into_iter()
            .map(|n| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.ask(n).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("the task"));
        }
        answers
    }
}
