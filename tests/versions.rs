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

/// Version 1 of `Task`: a title and an estimate as text, such as `"90m"`.
pub mod task_v1 {
    use crdtype::Crdt;

    /// `Task` as version 1 had it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "Task", version = 1)]
    pub struct Task {
        /// Field 0.
        pub title: String,
        /// Field 1: the estimate as text.
        pub estimate: String,
    }
}

/// Version 2 of `Task`: adds `done`.
pub mod task_v2 {
    use crdtype::Crdt;

    /// `Task` as version 2 had it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "Task", version = 2)]
    pub struct Task {
        /// Field 0.
        pub title: String,
        /// Field 1: the estimate as text.
        pub estimate: String,
        /// Field 2, added in version 2.
        #[crdt(flag, since = 2, default)]
        pub done: bool,
    }
}

/// Version 3 of `Task`: the estimate becomes a number of minutes, under a new id; older
/// replicas keep reading and writing the text under the old one.
pub mod task_v3 {
    use crdtype::Crdt;

    /// `Task` as version 3 has it.
    #[derive(Crdt, Debug, Clone, PartialEq, Default)]
    #[crdt(name = "Task", version = 3)]
    pub struct Task {
        /// Field 0.
        pub title: String,
        /// Field 3, the estimate in minutes; field 1 held it as text until version 2.
        #[crdt(
            id = 3,
            since = 3,
            default,
            was(
                id = 1,
                type = "String",
                upgrade = "minutes_from_text",
                downgrade = "text_from_minutes"
            )
        )]
        pub estimate_minutes: u32,
        /// Field 2.
        #[crdt(flag, since = 2, default)]
        pub done: bool,
    }

    /// `"90m"` -> 90; anything else reads as no estimate.
    pub fn minutes_from_text(text: String) -> u32 {
        text.strip_suffix('m')
            .and_then(|minutes| minutes.parse().ok())
            .unwrap_or(0)
    }

    /// 90 -> `"90m"`.
    pub fn text_from_minutes(minutes: u32) -> String {
        format!("{minutes}m")
    }
}
