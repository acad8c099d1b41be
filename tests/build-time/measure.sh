#!/usr/bin/env bash
# What expanding `#[derive(Crdt)]` costs a build: a crate of 50 structs of 10 fields,
# built cold with and without the derive (same dependencies, so the difference is the
# expansion and the generated code), then rebuilt after touching the source.
#
#   tests/build-time/measure.sh            # prints the four times in seconds
set -euo pipefail
workspace=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

make_crate() { # name, derive list
    local dir="$scratch/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
crdtype = { path = "$workspace/runtime" }
[workspace]
TOML
    {
        echo '#![allow(dead_code)]'
        echo 'use std::collections::BTreeSet;'
        echo 'use crdtype::Crdt;'
        for s in $(seq 1 50); do
            echo "#[derive($2)]"
            echo "pub struct Record$s {"
            echo "    pub title: String, pub start: i64, pub end: i64, pub offset: i32,"
            echo "    pub note: Option<String>, pub owner: String,"
            echo "    #[crdt(counter)] pub views: u64,"
            echo "    #[crdt(set)] pub tags: BTreeSet<String>,"
            echo "    #[crdt(flag)] pub done: bool,"
            echo "    #[crdt(mv)] pub colour: String,"
            echo "}"
        done
    } > "$dir/src/lib.rs"
}

seconds() { # dir
    local start end
    start=$(date +%s.%N)
    (cd "$1" && CARGO_TARGET_DIR="$1/target" cargo build --quiet)
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

make_crate with_derive 'Crdt, Clone, Debug, PartialEq, Default'
make_crate without_derive 'Clone, Debug, PartialEq, Default'
# Without the derive the `#[crdt]` attributes must go.
sed -i 's/#\[crdt([a-z_]*)\] //' "$scratch/without_derive/src/lib.rs"
sed -i 's/^use crdtype::Crdt;$//' "$scratch/without_derive/src/lib.rs"

cold_with=$(seconds "$scratch/with_derive")
cold_without=$(seconds "$scratch/without_derive")
touch "$scratch/with_derive/src/lib.rs" "$scratch/without_derive/src/lib.rs"
warm_with=$(seconds "$scratch/with_derive")
warm_without=$(seconds "$scratch/without_derive")
echo "cold build, 50 structs x 10 fields: with derive ${cold_with}s, without ${cold_without}s"
echo "rebuild of the crate alone:          with derive ${warm_with}s, without ${warm_without}s"
