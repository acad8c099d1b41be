//! Older versions of [`Meeting`](crate::Meeting), as replicas that have not upgraded
//! still run them: same schema name, same field ids, fewer fields.

/// Version 1: a title and a view counter only.
pub mod meeting_v1 {
    use crdtype::Crdt;

    /// `Meeting` as version 1 had it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "Meeting", version = 1)]
    pub struct Meeting {
        /// Field 0, as in every version.
        pub title: String,
        /// Field 2, as in every version.
        #[crdt(counter, id = 2)]
        pub views: i64,
    }
}

/// Version 2: adds a flag, and field 9 under its old name, `importance`.
pub mod meeting_v2 {
    use crdtype::Crdt;

    /// `Meeting` as version 2 had it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "Meeting", version = 2)]
    pub struct Meeting {
        /// Field 0.
        pub title: String,
        /// Field 2.
        #[crdt(counter, id = 2)]
        pub views: i64,
        /// Field 5, added in version 2.
        #[crdt(flag, id = 5, since = 2, default)]
        pub pinned: bool,
        /// Field 9, which version 3 renamed `priority`.
        #[crdt(id = 9, since = 2, default)]
        pub importance: u8,
    }
}
