//! FlatBuffers schemas (`.fbs`) of the wire format, one per schema descriptor, so that
//! `flatc` can generate readers of crdtype's bytes in other languages.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::Schema;

/// The tables every field's state is made of, shared by every schema.
pub const WIRE_TABLES: &str = include_str!("wire.fbs");

/// The `.fbs` of `schema`'s encodings: the shared tables, a table for the schema's record
/// whose field ids are the schema's field ids (ids no field uses appear as deprecated
/// placeholders, since FlatBuffers ids run without gaps), and the document at the root.
///
/// A schema named `calendar.Event` gives table `Event` and root `EventDocument` in
/// namespace `calendar`; one named `Meeting`, table `Meeting` in namespace `schema`. A nested struct's or map value's fields are a generic `Record`
/// here; their own schema's `.fbs` lists them.
pub fn export(schema: &Schema) -> String {
    // A schema without a namespace gets one, so that its tables cannot collide with the
    // shared ones in `crdtype`.
    let (namespace, table) = schema
        .name
        .rsplit_once('.')
        .unwrap_or(("schema", schema.name.as_str()));
    let mut slots: BTreeMap<u32, String> = BTreeMap::new();
    for field in &schema.fields {
        slots.insert(
            field.id,
            format!(
                "  {}: crdtype.Node (id: {});  // {} `{}`",
                field.name,
                field.id,
                field.kind.attribute(),
                field.rust_type
            ),
        );
        if let Some(was) = &field.was {
            slots.insert(
                was.id,
                format!(
                    "  {}_previous: crdtype.Node (id: {});  // lww `{}`, `{}` before its type changed",
                    field.name, was.id, was.rust_type, field.name
                ),
            );
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// The wire format of schema `{}`, version {}, as written by crdtype.\n",
        schema.name, schema.version
    );
    out.push_str(WIRE_TABLES);
    out.push('\n');
    let _ = writeln!(out, "namespace {namespace};\n");
    let _ = writeln!(
        out,
        "// The fields of `{}`: field id N is the field with id N.",
        schema.name
    );
    let _ = writeln!(out, "table {table} {{");
    let last = slots.keys().next_back().copied();
    for id in 0..=last.unwrap_or(0) {
        match slots.get(&id) {
            Some(line) => out.push_str(line),
            None if last.is_some() => {
                let _ = write!(
                    out,
                    "  unused_{id}: crdtype.Node (id: {id}, deprecated);  // {}",
                    if schema.reserved.contains(&id) {
                        "reserved"
                    } else {
                        "no field has this id"
                    }
                );
            }
            None => continue,
        }
        out.push('\n');
    }
    out.push_str("}\n\n");
    let _ = writeln!(
        out,
        "table {table}Document {{\n  \
         schema: string (id: 0, required);  // the writer's schema name\n  \
         version: uint (id: 1);             // the writer's schema version\n  \
         context: [ulong] (id: 2);          // (replica, first, last) runs\n  \
         state: {table} (id: 3);\n}}\n\nroot_type {table}Document;"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldDefault, FieldSchema, Kind};

    #[test]
    fn ids_become_field_ids_and_gaps_placeholders() {
        let field = |name: &str, id| FieldSchema {
            name: name.to_owned(),
            id,
            rust_type: "String".to_owned(),
            kind: Kind::Lww,
            since: 1,
            default: FieldDefault::Unspecified,
            renamed_from: None,
            was: None,
            read_only: false,
            views: Vec::new(),
        };
        let fbs = export(&Schema {
            name: "calendar.Event".to_owned(),
            version: 2,
            fields: vec![field("title", 0), field("location", 2)],
            reserved: vec![1],
            views: Vec::new(),
        });
        assert!(fbs.contains("namespace calendar;"), "{fbs}");
        assert!(fbs.contains("  title: crdtype.Node (id: 0);"), "{fbs}");
        assert!(fbs.contains("  unused_1: crdtype.Node (id: 1, deprecated);  // reserved"));
        assert!(fbs.contains("  location: crdtype.Node (id: 2);"), "{fbs}");
        assert!(fbs.contains("root_type EventDocument;"), "{fbs}");
    }
}
