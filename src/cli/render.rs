//! `pixfront render --renditions FILE SRC_DIR DEST_DIR`: the upload pipeline's renditions over a
//! folder (back-filling a library, or no AWS at all). Every file under `SRC_DIR` is an original,
//! its path relative to `SRC_DIR` its key; renditions land under `DEST_DIR` at their template's
//! key. Parallel (one original per core), resumable (an original whose every output is newer is
//! skipped; `--force` renders all), with a progress bar on a terminal and a summary line. Exit
//! code 0 when nothing failed, 1 when some original failed, 2 when nothing could start.

use crate::config::Config;
use crate::faces::{CacheKey, FaceJob, FaceService};
use crate::pipeline::Resources;
use crate::renditions::{self, FolderSink, Renditions};
use crate::storage::Object;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The renditions document (the upload pipeline's PIXFRONT_RENDITIONS): a file, or inline
    /// JSON starting with `{`. Its destinationBucket is not used.
    #[arg(long, env = "PIXFRONT_RENDITIONS")]
    pub renditions: String,
    /// The originals (every file below it, recursively).
    pub src_dir: PathBuf,
    /// Where renditions are written (created if needed).
    pub dest_dir: PathBuf,
    /// Folder with one sub-folder per bucket, for `overlayWith` images.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Originals rendered at once (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Render every original, even when its renditions are up to date.
    #[arg(long)]
    pub force: bool,
}

/// What a run did, per original.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rendered: usize,
    /// Up to date (every output newer than the original).
    pub skipped: usize,
    /// Files that are not images.
    pub not_images: usize,
    pub failed: usize,
    /// Rendition files written.
    pub written: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rendered {}, skipped {} (up to date), failed {}, not images {}; {} files written",
            self.rendered, self.skipped, self.failed, self.not_images, self.written
        )
    }
}

enum Outcome {
    Rendered(usize),
    Skipped,
    NotImage,
}

/// The `render` subcommand; the process exit code.
pub fn run(args: &Args) -> i32 {
    let setup = || -> Result<(Renditions, Config), String> {
        let set = Renditions::load(&args.renditions)?;
        if !set.overlay_refs().is_empty() && args.root.is_none() {
            return Err(
                "the renditions use overlayWith: give --root, a folder with one sub-folder per bucket".into(),
            );
        }
        if !args.src_dir.is_dir() {
            return Err(format!("{} is not a folder", args.src_dir.display()));
        }
        Ok((set, Config::from_env()?))
    };
    let (set, config) = match setup() {
        Ok(ready) => ready,
        Err(e) => {
            eprintln!("pixfront render: {e}");
            return 2;
        }
    };
    let started = Instant::now();
    match render_dir(&set, args, &config, true) {
        Ok(summary) => {
            println!("{summary} in {:.1} s", started.elapsed().as_secs_f64());
            i32::from(summary.failed > 0)
        }
        Err(e) => {
            eprintln!("pixfront render: {e}");
            2
        }
    }
}

/// Renders every original under `args.src_dir` (see the module docs); failures are printed and
/// counted, never fatal. `progress` shows the bar (on a terminal only).
pub fn render_dir(set: &Renditions, args: &Args, config: &Config, progress: bool) -> Result<Summary, String> {
    let sink = FolderSink::new(&args.dest_dir);
    let dest = std::fs::canonicalize(&args.dest_dir).ok();
    // Renditions written inside the source folder are not originals.
    let originals: Vec<(PathBuf, String)> = walkdir::WalkDir::new(&args.src_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            dest.as_ref()
                .is_none_or(|d| std::fs::canonicalize(e.path()).ok().as_ref() != Some(d))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(&args.src_dir).ok()?;
            let key = rel
                .iter()
                .map(|s| s.to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            Some((e.path().to_path_buf(), key))
        })
        .filter(|(_, key)| key.starts_with(&set.source_prefix))
        .collect();
    let overlays = read_overlays(set, args.root.as_deref())?;
    // FORCE_BLUR_FACES entries name the source folder as their bucket.
    let bucket = args
        .src_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // A Rekognition client (FACE_DETECTOR=rekognition or CONTENT_MODERATION) runs its calls on a
    // Tokio runtime that must outlive the batch; the local detector needs none.
    let _rekognition_runtime;
    let faces = if config.faces.uses_rekognition() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let faces = rt.block_on(FaceService::from_env(&config.faces));
        _rekognition_runtime = rt;
        Arc::new(faces)
    } else {
        Arc::new(FaceService::from_config(&config.faces))
    };

    let bar = if progress {
        ProgressBar::new(originals.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} originals, {elapsed} (eta {eta}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let counts: [AtomicUsize; 5] = Default::default();
    let [rendered, skipped, not_images, failed, written] = &counts;
    let conflicts = conflicts(set, &originals);
    let work = || {
        originals.par_iter().for_each(|(path, key)| {
            let outcome = match conflicts.get(key.as_str()) {
                Some(first) => Err(format!(
                    "its renditions would overwrite those of {first} (same key once the extension is gone: add {{ext}} to the key templates)"
                )),
                None => render_one(set, &sink, path, key, &bucket, &overlays, &faces, config, args.force),
            };
            match outcome {
                Ok(Outcome::Rendered(n)) => {
                    rendered.fetch_add(1, Ordering::Relaxed);
                    written.fetch_add(n, Ordering::Relaxed);
                }
                Ok(Outcome::Skipped) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Outcome::NotImage) => {
                    not_images.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    bar.suspend(|| eprintln!("failed: {key}: {e}"));
                }
            }
            bar.inc(1);
        })
    };
    match args.jobs.filter(|&j| j > 0) {
        Some(jobs) => rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| format!("cannot start {jobs} threads: {e}"))?
            .install(work),
        None => work(),
    }
    bar.finish_and_clear();
    let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    Ok(Summary {
        rendered: get(rendered),
        skipped: get(skipped),
        not_images: get(not_images),
        failed: get(failed),
        written: get(written),
    })
}

/// Originals whose rendition keys an earlier one (in file name order) already writes, e.g.
/// `cat.jpg` and `cat.png` under `{dir}/thumb/{stem}.webp`: key → the earlier original's key.
fn conflicts<'a>(set: &Renditions, originals: &'a [(PathBuf, String)]) -> HashMap<&'a str, &'a str> {
    let mut owners: HashMap<String, &str> = HashMap::new();
    let mut conflicts = HashMap::new();
    for (_, key) in originals {
        for r in &set.renditions {
            let Ok(out) = r.key.resolve(key, &r.name) else {
                continue;
            };
            match owners.get(&out) {
                Some(first) if first != key => {
                    conflicts.insert(key.as_str(), *first);
                }
                _ => {
                    owners.insert(out, key.as_str());
                }
            }
        }
    }
    conflicts
}

/// Reads each `overlayWith` image once, from `root/<bucket>/<key>`.
fn read_overlays(set: &Renditions, root: Option<&Path>) -> Result<Resources, String> {
    let mut resources = Resources::default();
    let refs = set.overlay_refs();
    if refs.is_empty() {
        return Ok(resources);
    }
    let storage = crate::storage::fs::FsStorage::new(root.unwrap_or(Path::new(".")));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    for (bucket, key) in refs {
        let object = rt
            .block_on(crate::storage::Storage::get(&storage, &bucket, &key))
            .map_err(|e| format!("overlayWith {bucket}/{key}: {}", e.message))?;
        resources.overlays.insert((bucket, key), object.body);
    }
    Ok(resources)
}

#[allow(clippy::too_many_arguments)]
fn render_one(
    set: &Renditions,
    sink: &FolderSink,
    path: &Path,
    key: &str,
    bucket: &str,
    overlays: &Resources,
    faces: &Arc<FaceService>,
    config: &Config,
    force: bool,
) -> Result<Outcome, String> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source_time = modified(path).unwrap_or(SystemTime::UNIX_EPOCH);
    let outputs = set
        .renditions
        .iter()
        .map(|r| r.key.resolve(key, &r.name).and_then(|k| sink.path(&k)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.message)?;
    let up_to_date = outputs
        .iter()
        .all(|o| modified(o).is_some_and(|t| t >= source_time));
    if up_to_date && !force {
        return Ok(Outcome::Skipped);
    }
    let body = std::fs::read(path).map_err(|e| e.to_string())?;
    if renditions::render::is_not_an_image(&body) {
        return Ok(Outcome::NotImage);
    }
    let nanos = source_time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Size + mtime, as the folder storage's ETag: faces are found once for all renditions.
    let etag = format!("\"{:x}-{nanos:x}\"", body.len());
    let original = Object {
        body: body.into(),
        etag: Some(etag.clone()),
        last_modified: Some(source_time),
        ..Object::default()
    };
    let mut resources = overlays.clone();
    resources.faces = Some(FaceJob::new(
        faces.clone(),
        Some(CacheKey {
            bucket: bucket.to_string(),
            key: key.to_string(),
            etag,
        }),
    ));
    let rendered = renditions::render_all(
        set,
        bucket,
        key,
        &original,
        &resources,
        &config.pipeline,
        &config.faces.force_blur_faces,
    )
    .map_err(|e| e.to_string())?;
    for r in &rendered {
        sink.write(r).map_err(|e| e.to_string())?;
    }
    Ok(Outcome::Rendered(rendered.len()))
}
