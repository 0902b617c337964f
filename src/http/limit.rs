//! Bounded CPU work: at most `in_flight` renders run (each on tokio's blocking pool, off the async
//! threads), at most `queue` more wait; anything beyond is refused at once with 503 so memory
//! stays bounded under a flood.

use crate::error::Error;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct Limiter {
    admit: Arc<Semaphore>,
    run: Arc<Semaphore>,
}

/// A request's place in the system (running or queued), held from fetch to response.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

fn overloaded() -> Error {
    Error::new(
        503,
        "Overloaded",
        "Too many requests in progress. Please retry shortly.",
    )
}

impl Limiter {
    pub fn new(in_flight: usize, queue: usize) -> Limiter {
        let in_flight = in_flight.max(1);
        Limiter {
            admit: Arc::new(Semaphore::new(in_flight + queue)),
            run: Arc::new(Semaphore::new(in_flight)),
        }
    }

    /// Takes a place or fails with 503 `Overloaded` without waiting.
    pub fn admit(&self) -> Result<Slot, Error> {
        self.admit
            .clone()
            .try_acquire_owned()
            .map(|p| Slot { _permit: p })
            .map_err(|_| overloaded())
    }

    /// Runs `job` on the blocking pool once a render slot is free. A panic inside the job (e.g.
    /// mozjpeg's error reporting) becomes a 500, never a crashed server.
    pub async fn run<T: Send + 'static>(
        &self,
        slot: Slot,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = self.run.clone().acquire_owned().await.map_err(|_| overloaded())?;
        let out = tokio::task::spawn_blocking(move || {
            let _held = (slot, permit);
            std::panic::catch_unwind(AssertUnwindSafe(job))
        })
        .await;
        match out {
            Ok(Ok(v)) => Ok(v),
            _ => Err(Error::internal()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_in_flight_plus_queue() {
        let l = Limiter::new(1, 1);
        let a = l.admit().unwrap();
        let _b = l.admit().unwrap();
        assert_eq!(l.admit().err().map(|e| e.status), Some(503));
        assert_eq!(l.run(a, || 7).await.unwrap(), 7);
        assert!(l.admit().is_ok(), "slot released after the job");
    }

    #[tokio::test]
    async fn panics_become_500() {
        let l = Limiter::new(1, 0);
        let slot = l.admit().unwrap();
        let err = l.run(slot, || -> u8 { panic!("boom") }).await.unwrap_err();
        assert_eq!(err.status, 500);
        assert!(l.admit().is_ok());
    }
}
