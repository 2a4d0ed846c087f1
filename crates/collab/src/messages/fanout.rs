//! One read per node for each change announced to a conversation's followers. Every follower of a
//! conversation on a node receives the same announcement; the first to handle it reads the message (or
//! the name of who is typing) and the others wait for that read and share it, so a message followed live
//! by two hundred people is read once, not two hundred times. Who reads the conversation by plain
//! membership (its project's members, or its people) is read once too, and each follower looks
//! themselves up in it; a follower who is not there (an organization's project manager, a thread's
//! party) is asked the full rule on their own. Which reactions are theirs is decided per follower.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};

use platform::AppContext;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::dto::Message;
use super::repo;
use crate::model::{ConversationId, MessageId};

/// A message as nobody in particular sees it, and who reacted with what.
#[derive(Debug)]
pub struct SharedMessage {
    message: Message,
    reactors: Vec<(String, Uuid)>,
}

impl SharedMessage {
    /// The message as `reader` sees it: their own reactions marked.
    pub fn for_reader(&self, reader: Uuid) -> Message {
        let mut message = self.message.clone();
        for r in &mut message.reactions {
            r.mine = self.reactors.iter().any(|(emoji, user)| *emoji == r.emoji && *user == reader);
        }
        message
    }

    pub fn message(&self) -> &Message {
        &self.message
    }
}

/// What was read for one announcement.
#[derive(Debug)]
pub enum Shared {
    Message(Box<SharedMessage>),
    /// The display name of whoever is typing, arrived or left.
    Name(String),
    /// Who reads the conversation by plain membership, as the announcement found it.
    Readers(HashSet<Uuid>),
}

/// What of an announcement is read: what it is about, or who reads its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    About,
    Readers,
}

type Cell = Arc<OnceCell<Option<Arc<Shared>>>>;

/// How many announcements a node remembers the reads of: far more than arrive while the slowest
/// follower handles one.
const REMEMBERED: usize = 1024;

/// The reads of the latest announcements, by announcement id and part, oldest first out.
#[derive(Default)]
struct Reads {
    order: VecDeque<(Uuid, Part)>,
    cells: HashMap<(Uuid, Part), Cell>,
}

/// The node's reads (one process is one node).
static READS: LazyLock<Mutex<Reads>> = LazyLock::new(Mutex::default);

fn cell(announcement: Uuid) -> Cell {
    cell_of(announcement, Part::About)
}

fn cell_of(announcement: Uuid, part: Part) -> Cell {
    let key = (announcement, part);
    let mut reads = READS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(cell) = reads.cells.get(&key) {
        return cell.clone();
    }
    let cell = Cell::default();
    reads.cells.insert(key, cell.clone());
    reads.order.push_back(key);
    while reads.order.len() > REMEMBERED {
        if let Some(old) = reads.order.pop_front() {
            reads.cells.remove(&old);
        }
    }
    cell
}

/// The message of announcement `announcement`, read once for every follower on this node; `None` when it
/// could not be read (each follower then reads it on its own, and is told what that read finds).
pub async fn message(ctx: &AppContext, announcement: Uuid, id: MessageId) -> Option<Arc<Shared>> {
    cell(announcement)
        .get_or_init(|| async {
            let read = async {
                let mut conn = ctx.db.acquire().await.ok()?;
                let row = repo::message(&mut conn, id, false).await.ok()??;
                let mut page = super::service::complete(&mut conn, vec![row], Uuid::nil()).await.ok()?;
                let reactors = repo::reactors(&mut conn, id).await.ok()?;
                Some(Arc::new(Shared::Message(Box::new(SharedMessage { message: page.remove(0), reactors }))))
            };
            read.await
        })
        .await
        .clone()
}

/// Who reads `conversation` by plain membership when announcement `announcement` arrived, read once for
/// every follower on this node; `None` when it could not be read (each follower then asks on its own).
pub async fn readers(ctx: &AppContext, announcement: Uuid, conversation: ConversationId) -> Option<Arc<Shared>> {
    cell_of(announcement, Part::Readers)
        .get_or_init(|| async {
            let mut conn = ctx.db.acquire().await.ok()?;
            let users = crate::conversations::repo::plain_readers(&mut conn, conversation).await.ok()?;
            Some(Arc::new(Shared::Readers(users.into_iter().collect())))
        })
        .await
        .clone()
}

/// The display name of the user an announcement is about, read once for every follower on this node.
pub async fn name(ctx: &AppContext, announcement: Uuid, user: Uuid) -> Option<Arc<Shared>> {
    cell(announcement)
        .get_or_init(|| async {
            let mut conn = ctx.db.acquire().await.ok()?;
            let mut names = identity::service::display_names(&mut conn, &[user]).await.ok()?;
            Some(Arc::new(Shared::Name(names.remove(&user).unwrap_or_default())))
        })
        .await
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_reads_are_forgotten_past_the_bound() {
        let first = Uuid::now_v7();
        let kept = cell(first);
        assert!(Arc::ptr_eq(&kept, &cell(first)), "one cell per announcement");
        assert!(!Arc::ptr_eq(&kept, &cell_of(first, Part::Readers)), "and part");
        for _ in 0..REMEMBERED {
            cell(Uuid::now_v7());
        }
        let reads = READS.lock().unwrap();
        assert!(reads.cells.len() <= REMEMBERED && reads.order.len() == reads.cells.len());
        assert!(!reads.cells.contains_key(&(first, Part::About)), "the first is forgotten");
    }
}
