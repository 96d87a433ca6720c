//! Pacing and retrying SSM calls: an adaptive rate governor and the classification of
//! failures into "slow down", "try again" and "give up".
//!
//! SSM's write budget is small (a few PutParameter calls a second by default) and shared with
//! everyone in the account, so the governor starts low, climbs while calls succeed, backs off
//! multiplicatively on throttling, and never exceeds the configured ceiling. Calls are spaced
//! evenly (one slot every 1/rate seconds) rather than burst, which is what keeps a throttled
//! push close to the allowed rate.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a failed call should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// SSM said "too fast": slow down, then retry.
    Throttled,
    /// A 5xx, a timeout or a dropped connection: retry after a backoff.
    Transient,
    /// Anything else (validation, access denied, not found): retrying cannot help.
    Permanent,
}

/// Error codes AWS uses for throttling.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "TooManyUpdates",
    "RequestThrottled",
    "RequestThrottledException",
    "PriorRequestNotComplete",
];

/// Classifies a failure from what the SDK knows about it: the service's error code, the
/// HTTP status, and whether the request never got a response (connection or timeout).
pub fn classify(code: Option<&str>, status: Option<u16>, no_response: bool) -> Failure {
    if code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429) {
        Failure::Throttled
    } else if no_response
        || status.is_some_and(|s| s >= 500)
        || code.is_some_and(|c| c == "InternalServerError" || c == "ServiceUnavailable")
    {
        Failure::Transient
    } else {
        Failure::Permanent
    }
}

/// Limits of the governor.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Calls per second to start at.
    pub initial: f64,
    /// Never faster than this (`--max-tps`).
    pub ceiling: f64,
    /// Never slower than this, so a long throttle storm still makes progress.
    pub floor: f64,
}

impl Limits {
    /// Reads with a small budget of their own (ListTagsForResource): paced, not burst.
    pub fn reads() -> Limits {
        Limits {
            initial: 10.0,
            ceiling: 20.0,
            floor: 1.0,
        }
    }

    /// Writes: SSM's default PutParameter budget is about 3 per second.
    pub fn writes(ceiling: f64) -> Limits {
        Limits {
            initial: 3.0_f64.min(ceiling),
            ceiling,
            floor: 0.5_f64.min(ceiling),
        }
    }
}

/// Additive increase per success, as a fraction of the current rate.
const INCREASE: f64 = 0.05;
/// Multiplicative decrease on throttling.
const DECREASE: f64 = 0.8;

#[derive(Debug)]
struct State {
    rate: f64,
    next_slot: Option<Instant>,
}

/// Spaces calls at an adaptive rate. Shared by all workers of one push.
#[derive(Debug)]
pub struct Governor {
    limits: Limits,
    state: Mutex<State>,
}

impl Governor {
    pub fn new(limits: Limits) -> Governor {
        Governor {
            limits,
            state: Mutex::new(State {
                rate: limits.initial,
                next_slot: None,
            }),
        }
    }

    /// Reserves the next call slot at or after `now`; the caller waits until it.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().expect("governor lock");
        let slot = state.next_slot.map_or(now, |next| next.max(now));
        state.next_slot = Some(slot + Duration::from_secs_f64(1.0 / state.rate));
        slot
    }

    /// A call succeeded: speed up a little.
    pub fn on_success(&self) {
        let mut state = self.state.lock().expect("governor lock");
        state.rate = (state.rate * (1.0 + INCREASE)).min(self.limits.ceiling);
    }

    /// A call was throttled: slow down, and push the next slot out by one new interval plus
    /// up to half an interval of jitter (`unit` in [0, 1)), so that many clients throttled
    /// together do not retry in lockstep.
    pub fn on_throttle(&self, now: Instant, unit: f64) {
        let mut state = self.state.lock().expect("governor lock");
        state.rate = (state.rate * DECREASE).max(self.limits.floor);
        let pause = Duration::from_secs_f64((1.0 + 0.5 * unit.clamp(0.0, 1.0)) / state.rate);
        state.next_slot = Some(state.next_slot.map_or(now, |n| n.max(now)) + pause);
    }

    pub fn rate(&self) -> f64 {
        self.state.lock().expect("governor lock").rate
    }
}

/// How many times one call is tried before it is reported as failed.
pub fn max_attempts(failure: Failure) -> u32 {
    match failure {
        // Throttling is expected under a small budget: be patient, the governor slows down.
        Failure::Throttled => 30,
        Failure::Transient => 8,
        Failure::Permanent => 1,
    }
}

/// Exponential backoff with full jitter for transient failures: `random(0, base·2^attempt)`,
/// capped. `unit` is a random number in [0, 1).
pub fn backoff(attempt: u32, unit: f64) -> Duration {
    let cap = Duration::from_secs(8);
    let ceiling = Duration::from_millis(100)
        .saturating_mul(1 << attempt.min(10))
        .min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400), false),
            Failure::Throttled
        );
        assert_eq!(
            classify(Some("TooManyUpdates"), Some(400), false),
            Failure::Throttled
        );
        assert_eq!(classify(None, Some(429), false), Failure::Throttled);
        assert_eq!(
            classify(Some("InternalServerError"), Some(500), false),
            Failure::Transient
        );
        assert_eq!(classify(None, Some(503), false), Failure::Transient);
        assert_eq!(classify(None, None, true), Failure::Transient);
        assert_eq!(
            classify(Some("ValidationException"), Some(400), false),
            Failure::Permanent
        );
        assert_eq!(
            classify(Some("AccessDeniedException"), Some(400), false),
            Failure::Permanent
        );
        assert_eq!(
            classify(Some("ParameterNotFound"), Some(400), false),
            Failure::Permanent
        );
    }

    #[test]
    fn slots_are_evenly_spaced_at_the_rate() {
        let g = Governor::new(Limits {
            initial: 4.0,
            ceiling: 4.0,
            floor: 1.0,
        });
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..5).map(|_| g.reserve(t0)).collect();
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(*slot - t0, Duration::from_millis(250) * i as u32);
        }
    }

    #[test]
    fn adapts_between_floor_and_ceiling() {
        let g = Governor::new(Limits::writes(10.0));
        assert_eq!(g.rate(), 3.0);
        for _ in 0..1000 {
            g.on_success();
        }
        assert_eq!(g.rate(), 10.0, "never above the ceiling");
        let now = Instant::now();
        for _ in 0..1000 {
            g.on_throttle(now, 0.0);
        }
        assert_eq!(g.rate(), 0.5, "never below the floor");
        let before = g.reserve(now);
        g.on_throttle(now, 0.0);
        assert!(
            g.reserve(now) >= before + Duration::from_secs(2),
            "a throttle pauses the next slot"
        );
        let jittered = Governor::new(Limits {
            initial: 1.0,
            ceiling: 1.0,
            floor: 1.0,
        });
        let first = jittered.reserve(now);
        jittered.on_throttle(now, 0.999);
        let pause = jittered.reserve(now) - first;
        assert!(
            pause > Duration::from_millis(2400),
            "jitter adds up to half an interval: {pause:?}"
        );
    }

    #[test]
    fn a_budget_of_three_is_tracked_closely() {
        // Simulate a server that admits 3 calls/s (token bucket of 3) against the governor.
        let g = Governor::new(Limits::writes(40.0));
        let start = Instant::now();
        let (mut tokens, mut last, mut admitted) = (3.0_f64, start, 0);
        let mut now = start;
        while now < start + Duration::from_secs(60) {
            now = g.reserve(now);
            tokens = (tokens + (now - last).as_secs_f64() * 3.0).min(3.0);
            last = now;
            if tokens >= 1.0 {
                tokens -= 1.0;
                admitted += 1;
                g.on_success();
            } else {
                g.on_throttle(now, 0.5);
            }
        }
        let rate = f64::from(admitted) / 60.0;
        assert!(rate >= 2.7, "achieved {rate:.2}/s of 3/s");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(30, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(5, 0.0), Duration::ZERO);
    }
}
