//! Three devices share a calendar: Alice and Bob run version 2 of the app, Carol still runs
//! version 1, which has no event locations. Each device keeps its replica in its own
//! SQLite file and syncs with the others over TCP on loopback. Alice edits offline and
//! catches up later, through Carol; a forged operation is refused; all three end with the
//! same events and the same heads. Run it again and it continues from the stored state.
//!
//! Run with `cargo run --example calendar [DATA_DIR]`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use crdtype::ops::{DocumentId, OpFields, OpKind, OpLog, SigningKey};
use crdtype::replica::sync::{Role, SyncSession};
use crdtype::replica::{Replica, SqliteStore};
use crdtype::{Crdt, Dot, HybridClock, ReplicaId, Timestamp, TypedStore};

/// The app's first version: events without a location.
mod v1 {
    use std::collections::BTreeMap;

    use crdtype::Crdt;

    /// An event, as version 1 knows it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "calendar.Event")]
    pub(crate) struct Event {
        pub(crate) title: String,
        /// Start, in microseconds since the Unix epoch.
        pub(crate) utc_time: i64,
        /// The organiser's time zone, in seconds east of UTC.
        pub(crate) tz_offset: i32,
    }

    /// The shared calendar: events by id.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "calendar.Calendar")]
    pub(crate) struct Calendar {
        #[crdt(map)]
        pub(crate) events: BTreeMap<String, Event>,
    }
}

/// Version 2: events gain a location.
mod v2 {
    use std::collections::BTreeMap;

    use crdtype::Crdt;

    /// An event, as version 2 knows it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "calendar.Event", version = 2)]
    pub(crate) struct Event {
        pub(crate) title: String,
        /// Start, in microseconds since the Unix epoch.
        pub(crate) utc_time: i64,
        /// The organiser's time zone, in seconds east of UTC.
        pub(crate) tz_offset: i32,
        /// Where it takes place.
        #[crdt(since = 2, default)]
        pub(crate) location: String,
    }

    /// The shared calendar: events by id.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "calendar.Calendar", version = 2)]
    pub(crate) struct Calendar {
        #[crdt(map)]
        pub(crate) events: BTreeMap<String, Event>,
    }
}

type Device<T> = Replica<T, SqliteStore>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// The document's salt: with Alice's key, it names the calendar.
const SALT: [u8; 16] = *b"crdtype calendar";
/// 2026-01-05 09:00 UTC, in microseconds.
const MONDAY_9AM: i64 = 1_767_603_600_000_000;
const HOUR: i64 = 3_600_000_000;

/// A device's key. A real app keeps it in the platform's key store; the demo derives it
/// from a seed so that a second run finds the same devices.
fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn main() -> Result<(), Error> {
    let dir = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("crdtype-calendar"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    let first_run = !dir.join("alice.sqlite").exists();
    println!("data in {}", dir.display());

    let Devices {
        mut alice,
        mut bob,
        mut carol,
    } = open_devices(&dir, first_run)?;
    if first_run {
        alice.edit(|calendar| {
            calendar
                .events
                .insert("standup".into(), event("Standup", MONDAY_9AM, ""));
            calendar
                .events
                .insert("retro".into(), event("Retro", MONDAY_9AM + 6 * HOUR, ""));
        })?;
        println!("alice: created the calendar and admitted bob and carol");
    } else {
        println!(
            "continuing from the stored state: {}, {} and {} operations",
            alice.log().len(),
            bob.log().len(),
            carol.log().len()
        );
    }
    sync(&mut alice, &mut bob)?;
    sync(&mut bob, &mut carol)?;

    // Alice boards a plane. Everyone edits the same events concurrently.
    let run = alice.log().len();
    alice.edit(|calendar| rename(calendar, "standup", &format!("Daily standup #{run}")))?;
    bob.edit(|calendar| {
        if let Some(standup) = calendar.events.get_mut("standup") {
            standup.utc_time += HOUR;
            standup.location = "Room 4".into();
        }
    })?;
    carol.edit(|calendar| {
        if let Some(retro) = calendar.events.get_mut("retro") {
            retro.title = "Sprint retro".into();
        }
        let lunch = v1::Event {
            title: "Team lunch".into(),
            utc_time: MONDAY_9AM + 3 * HOUR,
            tz_offset: 3600,
        };
        calendar.events.insert("lunch".into(), lunch);
    })?;
    println!(
        "offline, alice renamed the standup; bob moved it and gave it a room; carol renamed the retro and added a lunch"
    );
    println!("bob <-> carol: {}", sync(&mut bob, &mut carol)?);

    // Mallory, who was never admitted, signs an edit in Carol's name.
    let forged = forge(&bob, ReplicaId::new(3), &key(0x66))?;
    match bob.receive(&forged) {
        Err(error) => println!("bob refused a forged operation: {error}"),
        Ok(received) => return Err(format!("a forged operation got through: {received:?}").into()),
    }

    // Alice lands and reaches Carol only: Bob's location comes through Carol's version 1.
    println!("alice <-> carol: {}", sync(&mut alice, &mut carol)?);
    println!("bob <-> alice: {}", sync(&mut bob, &mut alice)?);

    println!("{}", line("alice v2", &alice, show_v2(&alice.read())));
    println!("{}", line("bob   v2", &bob, show_v2(&bob.read())));
    println!("{}", line("carol v1", &carol, show_v1(&carol.read())));
    let digests = [&alice.log().heads_digest(), &bob.log().heads_digest()];
    if digests
        .iter()
        .any(|digest| **digest != carol.log().heads_digest())
    {
        return Err("the devices did not converge".into());
    }
    println!("converged: the same operations everywhere; Bob's location reached Alice through v1");
    Ok(())
}

/// The three devices: two on version 2, Carol on version 1.
struct Devices {
    alice: Device<v2::Calendar>,
    bob: Device<v2::Calendar>,
    carol: Device<v1::Calendar>,
}

/// Alice, Bob and Carol, each on its SQLite file; on the first run Alice creates the
/// calendar and admits the others.
fn open_devices(dir: &Path, first_run: bool) -> Result<Devices, Error> {
    let document = DocumentId::derive(&key(1).verifying_key(), &SALT);
    let alice = if first_run {
        let (log, _genesis) = OpLog::create(&key(1), SALT, HybridClock::new(ReplicaId::new(1)));
        let mut alice = Replica::open(SqliteStore::open(dir.join("alice.sqlite"))?, key(1), log)?.0;
        alice.admit(ReplicaId::new(2), key(2).verifying_key())?;
        alice.admit(ReplicaId::new(3), key(3).verifying_key())?;
        alice
    } else {
        open(dir, "alice", 1, document)?
    };
    Ok(Devices {
        alice,
        bob: open(dir, "bob", 2, document)?,
        carol: open(dir, "carol", 3, document)?,
    })
}

fn open<T: Crdt>(
    dir: &Path,
    name: &str,
    seed: u8,
    document: DocumentId,
) -> Result<Device<T>, Error> {
    let store = SqliteStore::open(dir.join(format!("{name}.sqlite")))?;
    let log = OpLog::open(document, HybridClock::new(ReplicaId::new(u64::from(seed))));
    let (device, recovery) = Replica::open(store, key(seed), log)?;
    if !recovery.corrupt.is_empty() {
        println!("{name}: dropped {} corrupt records", recovery.corrupt.len());
    }
    Ok(device)
}

/// One sync session over TCP on loopback: `a` connects, `b` answers from a thread.
fn sync<A: Crdt, B: Crdt<Store: Send>>(
    a: &mut Device<A>,
    b: &mut Device<B>,
) -> Result<String, Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    std::thread::scope(|scope| {
        let answering = scope.spawn(move || -> Result<(), Error> {
            let (stream, _) = listener.accept()?;
            SyncSession::new().run_tcp(b, &stream, Role::Responder)?;
            Ok(())
        });
        let mut session = SyncSession::new();
        session.run_tcp(a, &TcpStream::connect(address)?, Role::Initiator)?;
        answering
            .join()
            .map_err(|_| "the answering side panicked")??;
        let stats = session.stats();
        Ok(format!(
            "{} messages; operations: {} sent, {} applied",
            stats.messages_sent + stats.messages_received,
            stats.ops_sent,
            stats.applied
        ))
    })
}

fn event(title: &str, utc_time: i64, location: &str) -> v2::Event {
    v2::Event {
        title: title.into(),
        utc_time,
        tz_offset: 3600,
        location: location.into(),
    }
}

/// Renames event `id`, if the calendar has it.
fn rename(calendar: &mut v2::Calendar, id: &str, title: &str) {
    if let Some(event) = calendar.events.get_mut(id) {
        event.title = title.into();
    }
}

/// An operation that claims to be `victim`'s, signed with `mallory`'s key.
fn forge(
    device: &Device<v2::Calendar>,
    victim: ReplicaId,
    mallory: &SigningKey,
) -> Result<Vec<u8>, Error> {
    let mut state = device.state().clone();
    let old = device.read();
    let mut new = old.clone();
    rename(&mut new, "standup", "Cancelled!");
    let mark = device.log().clock().high_water_mark();
    let stamp = Timestamp {
        wall_micros: mark.wall_micros + 1,
        logical: 0,
        replica: victim,
    };
    let delta = v2::Calendar::write_changes(
        &mut state.store,
        &mut state.context,
        stamp,
        Some(&old),
        &new,
    );
    let next = device
        .log()
        .version_vector()
        .get(&victim)
        .copied()
        .unwrap_or(0)
        + 1;
    let fields = OpFields {
        id: Dot::new(victim, next),
        document: *device.log().document().as_bytes(),
        kind: OpKind::Patch,
        schema: <v2::CalendarCrdt as TypedStore>::SCHEMA_NAME.into(),
        version: <v2::CalendarCrdt as TypedStore>::SCHEMA_VERSION,
        stamp,
        parents: device.log().heads().iter().copied().collect(),
        payload: delta.encode(),
        admitted: None,
        encrypted: false,
    };
    Ok(fields.sign(mallory))
}

/// A device's final line: its heads digest and its events.
fn line<T: Crdt>(name: &str, device: &Device<T>, events: String) -> String {
    let digest: String = device.log().heads_digest()[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{name}  heads {digest}  {events}")
}

fn show_v2(calendar: &v2::Calendar) -> String {
    show(calendar.events.iter().map(|(id, event)| {
        let at = if event.location.is_empty() {
            String::new()
        } else {
            format!(" @ {}", event.location)
        };
        (id, &event.title, event.utc_time, event.tz_offset, at)
    }))
}

fn show_v1(calendar: &v1::Calendar) -> String {
    show(calendar.events.iter().map(|(id, event)| {
        (
            id,
            &event.title,
            event.utc_time,
            event.tz_offset,
            String::new(),
        )
    }))
}

fn show<'a>(events: impl Iterator<Item = (&'a String, &'a String, i64, i32, String)>) -> String {
    let shown: Vec<String> = events
        .map(|(id, title, utc_time, tz_offset, at)| {
            let local_minutes =
                (utc_time / 60_000_000 + i64::from(tz_offset) / 60).rem_euclid(24 * 60);
            format!(
                "{id}: \"{title}\" {:02}:{:02}{at}",
                local_minutes / 60,
                local_minutes % 60
            )
        })
        .collect();
    shown.join(" | ")
}
