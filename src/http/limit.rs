//! Bounded work: at most `in_flight` renders run (each on tokio's blocking pool, off the async
//! threads), at most `queue` more wait; anything beyond is refused at once with 503. Each render
//! also reserves its estimated peak memory (`pipeline::memory`) from a process-wide budget
//! before it starts: one that can never fit is refused with 400 `MemoryBudgetExceeded`, one
//! that does not fit now waits in the queue (first come, first served, so a large render is
//! not starved by small ones). After a large render the allocator gives its free memory back
//! to the OS.

use crate::error::Error;
use crate::telemetry::{self, GaugeGuard};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Renders that reserved at least this much trim the allocator afterwards: glibc keeps freed
/// heap memory (in every thread's arena) for reuse, so RSS would stay at the largest peak.
const TRIM_AFTER_MB: u32 = 32;

#[derive(Clone)]
pub struct Limiter {
    admit: Arc<Semaphore>,
    run: Arc<Semaphore>,
    /// One permit per MiB of the memory budget.
    memory: Arc<Semaphore>,
    budget_mb: u32,
}

/// A request's place in the system (running or queued), held from fetch to response.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    /// Counts the request in `pixfront_renders_queued` until its render starts.
    queued: GaugeGuard,
}

fn overloaded() -> Error {
    Error::new(
        503,
        "Overloaded",
        "Too many requests in progress. Please retry shortly.",
    )
}

fn over_budget(need_mb: u32, budget_mb: u32) -> Error {
    Error::bad_request(
        "MemoryBudgetExceeded",
        format!(
            "Rendering this image would take about {need_mb} MB; the memory budget (MEMORY_BUDGET_MB) is {budget_mb} MB."
        ),
    )
}

impl Limiter {
    pub fn new(in_flight: usize, queue: usize, budget_mb: u32) -> Limiter {
        let in_flight = in_flight.max(1);
        let budget_mb = budget_mb.max(1);
        Limiter {
            admit: Arc::new(Semaphore::new(in_flight + queue)),
            run: Arc::new(Semaphore::new(in_flight)),
            memory: Arc::new(Semaphore::new(budget_mb as usize)),
            budget_mb,
        }
    }

    /// Takes a place or fails with 503 `Overloaded` without waiting.
    pub fn admit(&self) -> Result<Slot, Error> {
        self.admit
            .clone()
            .try_acquire_owned()
            .map(|p| Slot {
                _permit: p,
                queued: GaugeGuard::new(telemetry::QUEUED, 1.0),
            })
            .map_err(|_| {
                telemetry::overloaded();
                overloaded()
            })
    }

    /// Runs `job` on the blocking pool once `need` bytes of the memory budget and a render slot
    /// are free (memory first, so a render waiting for memory holds no CPU slot). A panic inside
    /// the job (e.g. mozjpeg's error reporting) becomes a 500, never a crashed server.
    pub async fn run<T: Send + 'static>(
        &self,
        slot: Slot,
        need: u64,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let need_mb = need.div_ceil(1 << 20).min(u32::MAX as u64) as u32;
        if need_mb > self.budget_mb {
            return Err(over_budget(need_mb, self.budget_mb));
        }
        let memory = GaugeGuard::new(telemetry::MEMORY_RESERVED, (need_mb as f64) * (1 << 20) as f64);
        let reserved = self
            .memory
            .clone()
            .acquire_many_owned(need_mb)
            .await
            .map_err(|_| overloaded())?;
        let permit = self.run.clone().acquire_owned().await.map_err(|_| overloaded())?;
        let out = tokio::task::spawn_blocking(move || {
            let Slot { _permit, queued } = slot;
            drop(queued);
            let _running = GaugeGuard::new(telemetry::IN_FLIGHT, 1.0);
            let _held = (_permit, permit, reserved, memory);
            let out = std::panic::catch_unwind(AssertUnwindSafe(job));
            if need_mb >= TRIM_AFTER_MB {
                trim();
            }
            out
        })
        .await;
        match out {
            Ok(Ok(v)) => Ok(v),
            _ => Err(Error::internal()),
        }
    }
}

/// Gives the allocator's free memory back to the OS (glibc; other allocators return it alone).
/// The job's buffers were freed before this runs, inside the job.
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The default memory budget in MiB: 60 % of the memory this process may use, read from the
/// cgroup limit (`/sys/fs/cgroup/memory.max`, cgroup v2: containers, ECS, Kubernetes), else
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB), else the machine's `MemTotal`, else 1 GiB. The other
/// 40 % are for what the budget does not count: originals of queued requests, the server
/// itself (~20 MB), caches and the allocator's fragmentation.
pub fn default_budget_mb(lambda_memory_mb: Option<u64>) -> u32 {
    let limit_bytes = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .or_else(|| lambda_memory_mb.map(|mb| mb << 20))
        .or_else(mem_total)
        .unwrap_or(1 << 30);
    ((limit_bytes >> 20) * 6 / 10).clamp(64, u32::MAX as u64) as u32
}

fn mem_total() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb << 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_in_flight_plus_queue() {
        let l = Limiter::new(1, 1, 100);
        let a = l.admit().unwrap();
        let _b = l.admit().unwrap();
        assert_eq!(l.admit().err().map(|e| e.status), Some(503));
        assert_eq!(l.run(a, 1 << 20, || 7).await.unwrap(), 7);
        assert!(l.admit().is_ok(), "slot released after the job");
    }

    #[tokio::test]
    async fn panics_become_500() {
        let l = Limiter::new(1, 0, 100);
        let slot = l.admit().unwrap();
        let err = l.run(slot, 0, || -> u8 { panic!("boom") }).await.unwrap_err();
        assert_eq!(err.status, 500);
        assert!(l.admit().is_ok());
    }

    #[tokio::test]
    async fn memory_never_fitting_is_400_and_a_full_budget_waits() {
        let l = Limiter::new(2, 2, 100);
        let err = l.run(l.admit().unwrap(), 101 << 20, || ()).await.unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "MemoryBudgetExceeded"));
        assert!(err.message.contains("100 MB"), "{}", err.message);
        // Two renders of 60 MB cannot overlap in a 100 MB budget, though two may run at once.
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let job = |running: Arc<std::sync::atomic::AtomicUsize>,
                   most: Arc<std::sync::atomic::AtomicUsize>| {
            move || {
                use std::sync::atomic::Ordering::SeqCst;
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(50));
                running.fetch_sub(1, SeqCst);
            }
        };
        let (a, b) = (l.admit().unwrap(), l.admit().unwrap());
        let (x, y) = tokio::join!(
            l.run(a, 60 << 20, job(running.clone(), most.clone())),
            l.run(b, 60 << 20, job(running.clone(), most.clone())),
        );
        assert!(x.is_ok() && y.is_ok());
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn default_budget_follows_lambda_memory_without_cgroup() {
        // Without a cgroup file the Lambda size counts (60 % of 1024 MB); a cgroup limit, when
        // this machine has one, wins, and then the budget is 60 % of it.
        let budget = default_budget_mb(Some(1024));
        match std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(limit) => assert_eq!(budget as u64, (limit >> 20) * 6 / 10),
            None => assert_eq!(budget, 614),
        }
    }
}
