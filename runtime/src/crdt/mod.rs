//! The CRDTs built on the dot stores: one module per kind.

/// Implements [`DotStore`](crate::DotStore) for a CRDT that wraps one dot store, by
/// delegating to that field: the CRDT adds mutators and reads, not a new join.
macro_rules! delegate_dot_store {
    (impl[$($generics:tt)*] $type:ty => $field:ident) => {
        impl<$($generics)*> $crate::DotStore for $type {
            fn is_bottom(&self) -> bool {
                self.$field.is_bottom()
            }

            fn for_each_dot(&self, visit: &mut dyn FnMut($crate::Dot)) {
                self.$field.for_each_dot(visit);
            }

            fn join(
                &mut self,
                context: &$crate::CausalContext,
                other: Self,
                other_context: &$crate::CausalContext,
            ) {
                self.$field.join(context, other.$field, other_context);
            }
        }
    };
}

pub(crate) mod aw_set;
pub(crate) mod counter;
pub(crate) mod entry;
pub(crate) mod flag;
pub(crate) mod lww;
pub(crate) mod mv;
pub(crate) mod or_map;
pub(crate) mod retyped;
pub(crate) mod two_phase_set;
