//! Choosing how to decode: serially, or split between threads.

use crate::serial::{run, Job};
use crate::strip::{fix_v2, join, Pool};
use crate::{Error, Mode};

pub fn decode(
    job: &Job,
    scan: usize,
    _threads: usize,
    out: &mut [u8],
    stride: usize,
) -> Result<(Mode, usize), Error> {
    {
        let pool = Pool::new(out, stride, job.geo);
        let pieces = run(job, &pool, scan, 0..job.geo.total_mcus())?;
        join(job.geo, &pool, pieces)?;
    }
    fix_v2(job.geo, out, stride);
    Ok((Mode::Serial, 1))
}
