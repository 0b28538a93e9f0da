//! Taking work off a channel in groups: the next job, and every job already
//! waiting behind it. A task that writes or reads for many callers does so
//! once per group, so under load one round trip to SQLite serves many
//! updates, and a lone job goes at once.

use tokio::sync::mpsc::UnboundedReceiver;

/// Waits for the next job, then takes those already queued, up to `max` in
/// all. None once every sender is gone.
pub async fn next_group<T>(rx: &mut UnboundedReceiver<T>, max: usize) -> Option<Vec<T>> {
    let mut group = vec![rx.recv().await?];
    while group.len() < max {
        match rx.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    Some(group)
}
