//! Three replicas of a tiny calendar edit concurrently, exchange deltas in different
//! orders, and converge: the kernel of crdtype at work, without the derive macro.
//!
//! Run with `cargo run --example kernel`.

use crdtype::{CausalDotStore, HybridClock, LwwRegister, OrMap, ReplicaId};

type Calendar = CausalDotStore<OrMap<String, LwwRegister<String>>>;

fn main() {
    let ids = [
        ReplicaId::new(0xa11ce),
        ReplicaId::new(0xb0b),
        ReplicaId::new(0xca201),
    ];
    let mut clocks = ids.map(HybridClock::new);
    let mut replicas: [Calendar; 3] = Default::default();

    // Alice creates two events; everyone receives them.
    let mut shared = Vec::new();
    for (id, title) in [("standup", "Standup"), ("retro", "Retro")] {
        let stamp = clocks[0].now();
        let (state, context) = (&mut replicas[0].store, &mut replicas[0].context);
        shared.push(state.update(context, id.to_owned(), |title_reg, ctx| {
            title_reg.set(ctx, stamp, title.to_owned())
        }));
    }
    for replica in &mut replicas[1..] {
        for delta in &shared {
            replica.join(delta.clone());
        }
    }

    // Offline edits: Alice renames the standup, Bob deletes it, Carol renames the retro.
    let stamp = clocks[0].now();
    let (state, context) = (&mut replicas[0].store, &mut replicas[0].context);
    let rename = state.update(context, "standup".to_owned(), |reg, ctx| {
        reg.set(ctx, stamp, "Daily standup".to_owned())
    });
    let delete = replicas[1].store.remove(&"standup".to_owned());
    let stamp = clocks[2].now();
    let (state, context) = (&mut replicas[2].store, &mut replicas[2].context);
    let retro = state.update(context, "retro".to_owned(), |reg, ctx| {
        reg.set(ctx, stamp, "Sprint retro".to_owned())
    });

    // Deliver every delta everywhere, in a different order per replica, with a duplicate.
    let deltas = [rename, delete, retro];
    let orders = [[1, 2, 2], [2, 0, 0], [1, 0, 1]];
    for (replica, order) in replicas.iter_mut().zip(orders) {
        for index in order {
            replica.join(deltas[index].clone());
        }
    }

    for (id, replica) in ids.iter().zip(&replicas) {
        let events: Vec<String> = replica
            .store
            .iter()
            .map(|(key, title)| format!("{key} = {:?}", title.get()))
            .collect();
        println!("replica {id}: {}", events.join(", "));
    }
    assert!(replicas.windows(2).all(|pair| pair[0] == pair[1]));
    println!("all three replicas converged; Alice's rename survived Bob's concurrent delete");
}
