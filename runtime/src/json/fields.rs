//! How each kind of field takes JSON input and gives JSON output; the generated code of a
//! derived struct dispatches to these by field name.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::canonical::pointer;
use super::{Action, InputError};
use crate::__private::{CounterValue, SetCrdt, write_counter, write_set};
use crate::{
    AwSet, CausalContext, CausalDotStore, ContextBuilder, DotStore, Entry, EwFlag, LwwRegister,
    MvRegister, OrMap, PnCounter, Retyped, Timestamp, TwoPhaseSet, TypedStore,
};

/// A store that `#[derive(Crdt)]` generated, with JSON input and output.
pub trait JsonDocument: TypedStore {
    /// The replicated fields, in declaration order.
    const JSON_FIELDS: &'static [JsonFieldInfo];

    /// The views the schema declares.
    const VIEWS: &'static [&'static str];

    /// Applies `action` at `path`, whose segment `depth` names one of this struct's
    /// fields, and adds what it changed to `delta` (nothing while checking).
    #[doc(hidden)]
    fn json_write(
        &mut self,
        cx: &mut WriteCx<'_>,
        path: &[String],
        depth: usize,
        action: &Action,
        delta: &mut CausalDotStore<Self>,
    ) -> Result<(), InputError>;

    /// The fields `view` shows (every replicated field for `None`) as a JSON object.
    #[doc(hidden)]
    fn json_read(&self, cx: &mut ReadCx, view: Option<&str>) -> Value;

    /// Whether the canonical transform may combine operations on `path` (from segment
    /// `depth`, which names one of this struct's fields): not inside a two-phase set, nor
    /// inside a map entry.
    #[doc(hidden)]
    fn combinable(path: &[String], depth: usize) -> bool;

    /// The whole-field writes of one input to the fields it types as it reads them (the
    /// [`JsonValueField`]s), held until the whole input has been checked.
    #[doc(hidden)]
    type JsonInput: Default;

    /// The replicated field named `name`, found by a `match` on the names.
    #[doc(hidden)]
    fn json_field(name: &str) -> Option<InputField>;

    /// The replicated field named `name`, as input sees it: the input filter writes it
    /// only if it is [`writable`](JsonFieldInfo::writable).
    ///
    /// ```
    /// use crdtype::Crdt;
    /// use crdtype::json::JsonDocument;
    ///
    /// #[derive(Crdt, Clone, Debug, Default, PartialEq)]
    /// struct Profile {
    ///     name: String,
    ///     #[crdt(read_only)]
    ///     karma: i64,
    /// }
    ///
    /// let writable = |name| ProfileCrdt::input_field(name).is_some_and(|field| field.writable);
    /// assert!(writable("name"));
    /// assert!(!writable("karma"));
    /// assert!(!writable("unknown"));
    /// ```
    #[inline]
    fn input_field(name: &str) -> Option<&'static JsonFieldInfo> {
        find_field::<Self>(name).map(|(_, info)| info)
    }

    /// Reads the value of the typed field at `index` into `input`.
    #[doc(hidden)]
    fn json_type<'de, D: Deserializer<'de>>(
        &self,
        input: &mut Self::JsonInput,
        index: usize,
        value: D,
    ) -> Result<(), TypeError<D::Error>>;

    /// Applies the writes of `input`, taking them, and adds them to `delta`, the input's
    /// delta (empty in those fields before).
    #[doc(hidden)]
    fn json_apply(&mut self, input: &mut Self::JsonInput, cx: &mut ApplyCx<'_>, delta: &mut Self);
}

/// The replicated field of `S` named `name`, with its place and how input writes it.
#[inline]
pub(crate) fn find_field<S: JsonDocument>(
    name: &str,
) -> Option<(InputField, &'static JsonFieldInfo)> {
    let field = S::json_field(name)?;
    Some((field, S::JSON_FIELDS.get(field.index)?))
}

/// A replicated field, as input finds it by name.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct InputField {
    /// Its place in [`JsonDocument::JSON_FIELDS`].
    pub index: usize,
    /// Whether input writes it whole, by one value typed on reading
    /// ([`JsonDocument::json_type`]); the other fields take operations.
    pub typed: bool,
}

/// One replicated field as JSON input and output see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JsonFieldInfo {
    /// The field's name.
    pub name: &'static str,
    /// Whether external input may write it (not `#[crdt(read_only)]`).
    pub writable: bool,
    /// The views that show it.
    pub views: &'static [&'static str],
}

/// The state of one application of input: the causal context and stamp it writes with,
/// whether it is checking or applying, and the paths it found that input may not write.
pub struct WriteCx<'c> {
    context: &'c mut CausalContext,
    stamp: Timestamp,
    applying: bool,
    dropped: Vec<String>,
}

impl std::fmt::Debug for WriteCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteCx")
            .field("applying", &self.applying)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl<'c> WriteCx<'c> {
    pub(crate) fn new(context: &'c mut CausalContext, stamp: Timestamp, applying: bool) -> Self {
        Self {
            context,
            stamp,
            applying,
            dropped: Vec::new(),
        }
    }

    /// The document's causal context and the stamp of the input: what applying it takes
    /// once it has been checked.
    pub(crate) fn document(&mut self) -> (&mut CausalContext, Timestamp) {
        (self.context, self.stamp)
    }

    /// The paths found that input may not write, sorted, each once.
    #[inline]
    pub(crate) fn take_dropped(&mut self) -> Vec<String> {
        let mut dropped = std::mem::take(&mut self.dropped);
        if !dropped.is_empty() {
            dropped.sort_unstable();
            dropped.dedup();
        }
        dropped
    }

    /// Notes `path` as one input may not write (unknown or read-only): the check pass
    /// collects them, the apply pass skips them.
    #[doc(hidden)]
    pub fn forbid(&mut self, path: &[String]) {
        if !self.applying {
            self.dropped.push(pointer(path));
        }
    }

    /// Runs `write` with a context of its own borrowing `context`: for writes inside a
    /// map entry, whose update lends the context back.
    fn with_context<R>(
        &mut self,
        context: &mut CausalContext,
        write: impl FnOnce(&mut WriteCx<'_>) -> R,
    ) -> R {
        let mut inner = WriteCx {
            context,
            stamp: self.stamp,
            applying: self.applying,
            dropped: std::mem::take(&mut self.dropped),
        };
        let result = write(&mut inner);
        self.dropped = inner.dropped;
        result
    }
}

/// What output gathers besides the JSON.
#[derive(Clone, Copy, Default, Debug)]
pub struct ReadCx {
    pub(crate) omitted_unknown_fields: usize,
}

impl ReadCx {
    /// Counts `count` fields of newer versions that the output leaves out.
    #[doc(hidden)]
    pub fn omit_unknown(&mut self, count: usize) {
        self.omitted_unknown_fields += count;
    }
}

/// A field's JSON input and output, for the plain type `Plain` it holds.
pub trait JsonField<Plain>: DotStore + Sized {
    /// Applies `action` at `path`, whose segments from `depth` on are inside this field;
    /// returns the delta (empty while checking).
    fn json_write(
        &mut self,
        cx: &mut WriteCx<'_>,
        path: &[String],
        depth: usize,
        action: &Action,
    ) -> Result<CausalDotStore<Self>, InputError>;

    /// The field's value as JSON.
    fn json_read(&self, cx: &mut ReadCx) -> Value;

    /// The field's whole value read from input, `None` for `null`.
    fn json_value<'de, D: Deserializer<'de>>(value: D) -> Result<Option<Plain>, D::Error>;

    /// [`json_value`](Self::json_value) into `slot` (`Some(None)` for `null`), or the
    /// error with the type that was expected. Takes the field so that generated code
    /// calls it as it calls [`json_write`](Self::json_write), and a type without serde
    /// support gets the same errors, once.
    #[inline]
    fn json_type<'de, D: Deserializer<'de>>(
        &self,
        slot: &mut Option<Option<Plain>>,
        value: D,
    ) -> Result<(), TypeError<D::Error>> {
        match Self::json_value(value) {
            Ok(value) => {
                *slot = Some(value);
                Ok(())
            }
            Err(error) => Err(TypeError {
                error,
                expected: type_name::<Plain>,
            }),
        }
    }
}

/// The value an action writes, or `None` for a reset (`Delete`, or a `null`).
pub(crate) fn written(action: &Action) -> Option<&Value> {
    match action {
        Action::Add(value) | Action::Modify(value) | Action::Merge(value) if !value.is_null() => {
            Some(value)
        }
        _ => None,
    }
}

/// `value` as a `T`, or a type error at `path`.
fn typed<T: DeserializeOwned>(value: &Value, path: &[String]) -> Result<T, InputError> {
    T::deserialize(value).map_err(|error| {
        TypeError {
            error,
            expected: type_name::<T>,
        }
        .at(pointer(path))
    })
}

/// `T`'s name as its users write it: `BTreeSet<String>`, not
/// `alloc::collections::btree::set::BTreeSet<alloc::string::String>`.
fn type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut short = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            short.push_str(&segment);
            segment.clear();
            short.push(c);
        }
    }
    short.push_str(&segment);
    short
}

/// A path segment as a set element or map key: the text itself, or the JSON it spells (a
/// number).
fn from_segment<T: DeserializeOwned>(segment: &str, path: &[String]) -> Result<T, InputError> {
    T::deserialize(Value::String(segment.to_owned())).or_else(|_| {
        let parsed: Value =
            serde_json::from_str(segment).unwrap_or_else(|_| Value::String(segment.to_owned()));
        typed(&parsed, path)
    })
}

/// A value as JSON; `null` for values serde cannot write as JSON (none of the supported
/// types).
fn json_of<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Refuses a path that goes inside a field without members.
pub(crate) fn no_members(path: &[String], depth: usize) -> Result<(), InputError> {
    if depth < path.len() {
        return Err(InputError::NoMembers {
            path: pointer(path),
            field: path[..depth].last().cloned().unwrap_or_default(),
        });
    }
    Ok(())
}

/// The state of applying the typed writes of one input: the document's causal context
/// and the stamp it writes with, and the context of the delta being gathered.
pub struct ApplyCx<'c> {
    context: &'c mut CausalContext,
    stamp: Timestamp,
    delta_context: ContextBuilder,
}

impl std::fmt::Debug for ApplyCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyCx")
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}

impl<'c> ApplyCx<'c> {
    pub(crate) fn new(context: &'c mut CausalContext, stamp: Timestamp) -> Self {
        Self {
            context,
            stamp,
            delta_context: ContextBuilder::new(),
        }
    }

    /// The context of the delta of every write applied, into `context`, replacing what it
    /// held. Takes the state by reference: moved into a call, it is a copy of hundreds of
    /// bytes.
    pub(crate) fn finish_into(&mut self, context: &mut CausalContext) {
        self.delta_context.build_into(context);
    }

    /// Makes `part`, the delta of a field written once in this input, that field's delta;
    /// its context goes to the input's builder.
    fn absorb<F: DotStore>(&mut self, delta: &mut F, part: CausalDotStore<F>) {
        *delta = part.store;
        self.delta_context.observe_context(&part.context);
    }
}

/// A field that input writes whole, by one value or a reset: a register, a counter, a
/// flag. Its input is typed as soon as it is read ([`JsonField::json_value`]), and
/// applied without a second look.
pub trait JsonValueField<Plain> {
    /// Writes `value`, or resets the field for `None`, into this field and into `delta`,
    /// the field's part of the input's delta (empty before; this field is written once).
    fn json_apply(&mut self, cx: &mut ApplyCx<'_>, value: Option<Plain>, delta: &mut Self);
}

/// A value of input that does not have its field's type.
#[derive(Debug)]
pub struct TypeError<E> {
    /// What the deserializer said.
    pub error: E,
    /// The field's type, as Rust names it.
    pub expected: fn() -> String,
}

impl<E: serde::de::Error> TypeError<E> {
    /// The error of a field the generated code does not type: never asked for, since the
    /// runtime asks only for typed fields; an error rather than a write silently dropped.
    pub fn not_typed() -> Self {
        Self {
            error: E::custom("the field is not typed on reading"),
            expected: || "a typed field".to_owned(),
        }
    }
}

impl<E: std::fmt::Display> TypeError<E> {
    /// The error as input reports it, at `path`.
    pub(crate) fn at(&self, path: String) -> InputError {
        InputError::Type {
            path,
            expected: (self.expected)(),
            reason: self.error.to_string(),
        }
    }
}

/// The value `action` writes to a single-valued field, typed (so a wrong type is an error
/// while checking): `Some(None)` for a reset, and `None` while only checking.
fn single_value<T: DeserializeOwned>(
    cx: &WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
) -> Result<Option<Option<T>>, InputError> {
    no_members(path, depth)?;
    let value = written(action)
        .map(|value| typed::<T>(value, path))
        .transpose()?;
    Ok(cx.applying.then_some(value))
}

/// Applies `action` to a single-valued field, through its [`JsonValueField`] impl.
fn single_write<T, F>(
    field: &mut F,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
) -> Result<CausalDotStore<F>, InputError>
where
    T: DeserializeOwned,
    F: JsonValueField<T> + DotStore,
{
    let Some(value) = single_value::<T>(cx, path, depth, action)? else {
        return Ok(CausalDotStore::new());
    };
    let mut apply = ApplyCx::new(cx.context, cx.stamp);
    let mut delta = CausalDotStore::new();
    field.json_apply(&mut apply, value, &mut delta.store);
    apply.finish_into(&mut delta.context);
    Ok(delta)
}

/// `JsonField` of a single-valued field, writing through its [`JsonValueField`] impl and
/// showing as `$read` (a function of the field).
macro_rules! json_single_valued {
    ($([$($generics:tt)*] $plain:ty => $field:ty, $read:expr;)*) => {$(
        impl<$($generics)*> JsonField<$plain> for $field {
            fn json_write(
                &mut self,
                cx: &mut WriteCx<'_>,
                path: &[String],
                depth: usize,
                action: &Action,
            ) -> Result<CausalDotStore<Self>, InputError> {
                single_write::<$plain, Self>(self, cx, path, depth, action)
            }

            fn json_read(&self, _: &mut ReadCx) -> Value {
                let read: fn(&Self) -> Value = $read;
                read(self)
            }

            #[inline]
            fn json_value<'de, D: Deserializer<'de>>(value: D) -> Result<Option<$plain>, D::Error> {
                Option::deserialize(value)
            }
        }
    )*};
}

json_single_valued! {
    [T: DeserializeOwned + Serialize + Clone] T => LwwRegister<T>,
        |register| register.get().map_or(Value::Null, json_of);
    // The value the plain struct shows: the first live one in dot order.
    [T: DeserializeOwned + Serialize + Clone] T => MvRegister<T>,
        |register| register.values().next().map_or(Value::Null, json_of);
    [T: CounterValue + DeserializeOwned + Serialize] T => PnCounter,
        |counter| json_of(&T::from_total(counter.total()));
    [] bool => EwFlag, |flag| Value::Bool(flag.is_enabled());
}

impl<T: Clone> JsonValueField<T> for LwwRegister<T> {
    #[inline]
    fn json_apply(&mut self, cx: &mut ApplyCx<'_>, value: Option<T>, delta: &mut Self) {
        match value {
            Some(value) => self.set_into(cx.context, cx.stamp, value, delta, &mut cx.delta_context),
            None => self.delete_into(delta, &mut cx.delta_context),
        }
    }
}

impl<T: Clone> JsonValueField<T> for MvRegister<T> {
    fn json_apply(&mut self, cx: &mut ApplyCx<'_>, value: Option<T>, delta: &mut Self) {
        let part = match value {
            Some(value) => self.write(cx.context, cx.stamp.replica, value),
            None => self.clear(),
        };
        cx.absorb(delta, part);
    }
}

/// A counter is written to a total, by the increment or decrement that gets it there; a
/// reset writes 0.
impl<T: CounterValue> JsonValueField<T> for PnCounter {
    fn json_apply(&mut self, cx: &mut ApplyCx<'_>, value: Option<T>, delta: &mut Self) {
        let total = value.unwrap_or(T::from_total(0));
        let part = write_counter(self, cx.context, cx.stamp.replica, total);
        cx.absorb(delta, part);
    }
}

impl JsonValueField<bool> for EwFlag {
    fn json_apply(&mut self, cx: &mut ApplyCx<'_>, value: Option<bool>, delta: &mut Self) {
        let part = if value == Some(true) {
            self.enable(cx.context, cx.stamp.replica)
        } else {
            self.disable()
        };
        cx.absorb(delta, part);
    }
}

/// A set field: as a whole, an array replaces the elements (a reset empties it); an
/// element's path (`/tags/urgent`, or `/tags/-` with the element as the value) adds or
/// removes it.
fn set_write<T, S>(
    set: &mut S,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
) -> Result<CausalDotStore<S>, InputError>
where
    T: DeserializeOwned + Ord + Clone,
    S: SetCrdt<T>,
{
    match path.get(depth..) {
        Some([element]) => {
            let element: T = match (element.as_str(), written(action)) {
                ("-", Some(value)) => typed(value, path)?,
                _ => from_segment(element, path)?,
            };
            if !cx.applying {
                return Ok(CausalDotStore::new());
            }
            Ok(match action {
                Action::Delete => set.remove(&element),
                _ => set.insert(cx.context, cx.stamp.replica, element),
            })
        }
        Some([]) | None => {
            let new = written(action)
                .map(|value| typed::<BTreeSet<T>>(value, path))
                .transpose()?
                .unwrap_or_default();
            if !cx.applying {
                return Ok(CausalDotStore::new());
            }
            let old: BTreeSet<T> = set.members().cloned().collect();
            Ok(write_set(
                set,
                cx.context,
                cx.stamp.replica,
                Some(&old),
                &new,
            ))
        }
        Some(_) => Err(InputError::NoMembers {
            path: pointer(path),
            field: path.get(depth).cloned().unwrap_or_default(),
        }),
    }
}

fn set_read<'a, T: Serialize + 'a>(members: impl Iterator<Item = &'a T>) -> Value {
    Value::Array(members.map(json_of).collect())
}

macro_rules! json_set {
    ($($set:ident),*) => {$(
        impl<T: DeserializeOwned + Serialize + Ord + Clone> JsonField<BTreeSet<T>> for $set<T> {
            fn json_write(
                &mut self,
                cx: &mut WriteCx<'_>,
                path: &[String],
                depth: usize,
                action: &Action,
            ) -> Result<CausalDotStore<Self>, InputError> {
                set_write(self, cx, path, depth, action)
            }

            fn json_read(&self, _: &mut ReadCx) -> Value {
                set_read(self.iter())
            }

            fn json_value<'de, D: Deserializer<'de>>(
                value: D,
            ) -> Result<Option<BTreeSet<T>>, D::Error> {
                Option::deserialize(value)
            }
        }
    )*};
}

json_set!(AwSet, TwoPhaseSet);

/// A register whose type changed: written and read in the current type, converted with
/// the schema's functions.
pub fn retyped_write<P: Clone, C: DeserializeOwned + Clone>(
    register: &mut Retyped<P, C>,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
    downgrade: Option<fn(C) -> P>,
) -> Result<CausalDotStore<Retyped<P, C>>, InputError> {
    Ok(match single_value::<C>(cx, path, depth, action)? {
        None => CausalDotStore::new(),
        Some(Some(value)) => register.set(cx.context, cx.stamp, value, downgrade),
        Some(None) => register.delete(),
    })
}

/// The visible value of a register whose type changed, as JSON.
pub fn retyped_read<P: Clone, C: Serialize + Clone>(
    register: &Retyped<P, C>,
    upgrade: fn(P) -> C,
    downgraded: bool,
) -> Value {
    register
        .get(upgrade, downgraded)
        .map_or(Value::Null, |value| json_of(&value))
}

/// A nested struct, or a map entry's value: a path inside goes to its fields; the struct
/// as a whole takes an object (merged by a merge patch, replacing otherwise: fields it
/// leaves out are reset) or a reset of every field.
pub fn nested_write<S: JsonDocument>(
    store: &mut S,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
) -> Result<CausalDotStore<S>, InputError> {
    let mut delta = CausalDotStore::new();
    if depth < path.len() {
        store.json_write(cx, path, depth, action, &mut delta)?;
        return Ok(delta);
    }
    let members = match written(action) {
        Some(Value::Object(members)) => Some(members),
        Some(_) => {
            return Err(InputError::Type {
                path: pointer(path),
                expected: type_name::<S::Value>(),
                reason: "expected an object of fields".to_owned(),
            });
        }
        None => None,
    };
    // A merge patch's object merges; anything else replaces, and a reset is replacing
    // with nothing.
    let replacing = members.is_none() || !matches!(action, Action::Merge(_));
    let mut member_path = path.to_vec();
    for field in S::JSON_FIELDS {
        let member = members.and_then(|members| members.get(field.name));
        let member_action = match member {
            Some(value) if value.is_null() => Action::Delete,
            Some(value) if replacing => Action::Modify(value.clone()),
            Some(value) => Action::Merge(value.clone()),
            None if replacing && field.writable => Action::Delete,
            None => continue,
        };
        member_path.push(field.name.to_owned());
        store.json_write(cx, &member_path, depth, &member_action, &mut delta)?;
        member_path.pop();
    }
    // Members that are not fields: unknown, refused or dropped like any such path.
    for name in members
        .into_iter()
        .flat_map(Map::keys)
        .filter(|name| !S::JSON_FIELDS.iter().any(|field| field.name == *name))
    {
        member_path.push(name.clone());
        cx.forbid(&member_path);
        member_path.pop();
    }
    Ok(delta)
}

/// A map field: a path inside addresses an entry by key (`/attendees/ada`) and its fields
/// beyond; the map as a whole takes an object of entries (merged by a merge patch, `null`
/// removing an entry; replacing otherwise) or a reset that removes every entry.
pub fn map_write<K, S>(
    map: &mut OrMap<K, Entry<S>>,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    action: &Action,
) -> Result<CausalDotStore<OrMap<K, Entry<S>>>, InputError>
where
    K: DeserializeOwned + Ord + Clone,
    S: JsonDocument,
{
    if let Some(segment) = path.get(depth) {
        let key: K = from_segment(segment, path)?;
        let entry_action = if depth + 1 == path.len() && written(action).is_none() {
            None
        } else {
            Some(action)
        };
        return entry_write(map, cx, path, depth + 1, key, entry_action);
    }
    let entries = match written(action) {
        Some(Value::Object(entries)) => Some(entries),
        Some(_) => {
            return Err(InputError::Type {
                path: pointer(path),
                expected: "an object of entries".to_owned(),
                reason: "expected an object".to_owned(),
            });
        }
        None => None,
    };
    let replacing = entries.is_none() || !matches!(action, Action::Merge(_));
    let mut delta = CausalDotStore::new();
    let mut entry_path = path.to_vec();
    if replacing && cx.applying {
        let kept: BTreeSet<K> = entries
            .into_iter()
            .flat_map(Map::keys)
            .filter_map(|key| from_segment(key, path).ok())
            .collect();
        let removed: Vec<K> = map
            .iter()
            .map(|(key, _)| key)
            .filter(|key| !kept.contains(key))
            .cloned()
            .collect();
        for key in removed {
            delta.join(map.remove(&key));
        }
    }
    for (name, value) in entries.into_iter().flatten() {
        entry_path.push(name.clone());
        let key: K = from_segment(name, &entry_path)?;
        let entry_action = match value {
            Value::Null => None,
            value if replacing => Some(Action::Modify(value.clone())),
            value => Some(Action::Merge(value.clone())),
        };
        delta.join(entry_write(
            map,
            cx,
            &entry_path,
            depth + 1,
            key,
            entry_action.as_ref(),
        )?);
        entry_path.pop();
    }
    Ok(delta)
}

/// Applies `action` to the entry under `key` (whose path ends at `depth`, or goes on
/// inside it), marking it present; `None` removes it.
fn entry_write<K, S>(
    map: &mut OrMap<K, Entry<S>>,
    cx: &mut WriteCx<'_>,
    path: &[String],
    depth: usize,
    key: K,
    action: Option<&Action>,
) -> Result<CausalDotStore<OrMap<K, Entry<S>>>, InputError>
where
    K: Ord + Clone,
    S: JsonDocument,
{
    let Some(action) = action else {
        return Ok(if cx.applying {
            map.remove(&key)
        } else {
            CausalDotStore::new()
        });
    };
    let present = map.get(&key).is_some_and(Entry::is_present);
    if matches!(action, Action::Delete) && depth < path.len() && !present {
        // Resetting a field of an entry that is not there: nothing to do, and no entry to
        // create.
        return Ok(CausalDotStore::new());
    }
    if !cx.applying {
        // Checking writes nothing, so an absent entry is checked against an empty one.
        nested_write(&mut S::default(), cx, path, depth, action)?;
        return Ok(CausalDotStore::new());
    }
    let replica = cx.stamp.replica;
    let mut result = Ok(());
    let mut context = std::mem::take(cx.context);
    let delta = map.update(&mut context, key, |entry, context| {
        entry.update(context, replica, |store, context| {
            cx.with_context(context, |cx| nested_write(store, cx, path, depth, action))
                .unwrap_or_else(|error| {
                    result = Err(error);
                    CausalDotStore::new()
                })
        })
    });
    *cx.context = context;
    result.map(|()| delta)
}

/// A map's present entries as a JSON object, keys as text.
pub fn map_read<K: Serialize + Ord, S: JsonDocument>(
    map: &OrMap<K, Entry<S>>,
    cx: &mut ReadCx,
) -> Value {
    Value::Object(
        map.iter()
            .filter(|(_, entry)| entry.is_present())
            .map(|(key, entry)| {
                let key = match json_of(key) {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (key, entry.value().json_read(cx, None))
            })
            .collect(),
    )
}
