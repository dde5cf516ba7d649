//! Writes: create, replace (PUT), patch, delete.
//!
//! PUT and PATCH are compare-and-swap loops: read the current version,
//! compute the new document, write with `IfMatch(version)`. Without a
//! client `If-Match`, a `VersionMismatch` means another writer got there
//! first, so the loop reads again and re-applies (bounded, with jittered
//! backoff): concurrent IdP PATCHes never lose an update. With a client
//! `If-Match` the next round's check turns the mismatch into 412.
//!
//! A PATCH that changes only members sends `Update { doc: None }` with no
//! precondition, so parallel membership changes to one group never
//! conflict at all.

use super::error::about;
use super::{Output, Service, ServiceError, View};
use crate::auth;
use crate::config::PasswordMode;
use scim_core::ScimError;
use scim_core::etag::Condition;
use scim_core::members::{Member, MemberDelta};
use scim_core::patch::{self, PatchError};
use scim_core::validate::{Mode, validate};
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, StoreError, Stored, Update};
use serde_json::Value;
use std::time::Duration;

/// Rounds of a compare-and-swap loop before giving up with 503.
const CAS_TRIES: u32 = 16;

/// What a PATCH answers.
#[derive(Debug)]
pub enum PatchOutcome {
    /// 200 with the resource.
    Resource(Output),
    /// 204: a group with more members than `patch_response_max_members`
    /// (rendering them would make every membership change O(group size)).
    NoContent { version: u64, location: String },
}

impl Service {
    /// POST: validate, keep members apart, write.
    pub async fn create(&self, ctx: &Ctx, kind: Kind, body: &Value, view: &View) -> Result<Output, ServiceError> {
        let mut doc = validate(self.rt(kind), body, Mode::Create)?;
        let members = take_members(kind, &mut doc)?;
        self.protect_password(&mut doc, None, false).await?;
        let stored = self.store.create(ctx, kind, NewResource { doc, members }).await?;
        // A resource that did not exist a moment ago belongs to no group
        // (its id is new): no need to ask the store.
        self.render_with_groups(ctx, stored, view, Some(Vec::new())).await
    }

    /// PUT: replaces the document and, for groups, the member list.
    pub async fn replace(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        body: &Value,
        cond: Option<&Condition>,
        view: &View,
    ) -> Result<Output, ServiceError> {
        let rt = self.rt(kind);
        for round in 0..CAS_TRIES {
            let current = self.current(ctx, kind, id, cond).await?;
            let mut doc = validate(rt, body, Mode::Replace { current: &current.doc })?;
            let members = take_members(kind, &mut doc)?;
            // The client cannot read a stored hash back to resend it, so a
            // PUT without a password keeps it.
            self.protect_password(&mut doc, Some(&current.doc), true).await?;
            let mut delta = MemberDelta::default();
            if kind == Kind::Group {
                delta.replace_all(members);
            }
            let update = Update {
                doc: Some(doc),
                members: delta,
            };
            let expect = Precondition::IfMatch(current.version);
            match self.store.update(ctx, kind, id, expect, update).await {
                Ok(mut stored) => {
                    if self.load_for(kind, view).members {
                        stored.members = Some(self.members_up_to(ctx, id, u64::MAX).await?.0);
                    }
                    return self.render(ctx, stored, view).await;
                }
                Err(StoreError::VersionMismatch { .. }) => backoff(round).await,
                Err(e) => return Err(about(kind, id)(e)),
            }
        }
        Err(busy())
    }

    /// PATCH: applies the operations to the current document (members only
    /// when an operation needs them), retrying on concurrent changes.
    pub async fn patch(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        body: &Value,
        cond: Option<&Condition>,
        view: &View,
    ) -> Result<PatchOutcome, ServiceError> {
        let rt = self.rt(kind);
        let ops = patch::parse_request(body)?;
        for round in 0..CAS_TRIES {
            let current = self.current(ctx, kind, id, cond).await?;
            // The engine sees the resource as clients do (with `id` and
            // `meta`), so echoed read-only values compare equal.
            let resource = current.to_resource();
            let (change, used_members) = match patch::apply(rt, &resource, None, &ops) {
                Ok(change) => (change, false),
                Err(PatchError::NeedsMembers) => {
                    let (members, _) = self.members_up_to(ctx, id, u64::MAX).await?;
                    match patch::apply(rt, &resource, Some(&members), &ops) {
                        Ok(change) => (change, true),
                        Err(PatchError::Scim(e)) => return Err(e.into()),
                        Err(PatchError::NeedsMembers) => {
                            return Err(ServiceError::Internal(
                                "the PATCH engine asked for members it was given".into(),
                            ));
                        }
                    }
                }
                Err(PatchError::Scim(e)) => return Err(e.into()),
            };
            let mut doc = change.doc;
            self.protect_password(&mut doc, Some(&current.doc), false).await?;
            // A PATCH whose document ends up unchanged (say, a password in
            // `discard` mode) is still written, as `doc: None`: every
            // accepted PATCH is one mutation with one audit event.
            let doc_changed = doc != current.doc;
            // A member-only change needs no compare-and-swap unless the
            // delta was computed from the member list or the client asked.
            let expect = if doc_changed || used_members || cond.is_some() {
                Precondition::IfMatch(current.version)
            } else {
                Precondition::Any
            };
            let update = Update {
                doc: doc_changed.then_some(doc),
                members: change.members,
            };
            match self.store.update(ctx, kind, id, expect, update).await {
                Ok(stored) => return self.patch_outcome(ctx, stored, view).await,
                Err(StoreError::VersionMismatch { .. }) => backoff(round).await,
                Err(e) => return Err(about(kind, id)(e)),
            }
        }
        Err(busy())
    }

    /// DELETE, under `If-Match` when given.
    pub async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, cond: Option<&Condition>) -> Result<(), ServiceError> {
        let expect = match cond {
            None => Precondition::Any,
            Some(c) => match c.single_version() {
                Some(v) => Precondition::IfMatch(v),
                // `*` or a list: check against the current version, then
                // delete exactly that version.
                None => Precondition::IfMatch(self.current(ctx, kind, id, cond).await?.version),
            },
        };
        self.store.delete(ctx, kind, id, expect).await.map_err(about(kind, id))
    }

    /// The current resource without members, checked against `If-Match`.
    async fn current(&self, ctx: &Ctx, kind: Kind, id: &str, cond: Option<&Condition>) -> Result<Stored, ServiceError> {
        let current = self
            .store
            .get(ctx, kind, id, Load::WITHOUT_MEMBERS)
            .await
            .map_err(about(kind, id))?;
        if let Some(c) = cond
            && !c.matches(current.version)
        {
            return Err(ScimError::precondition_failed(format!(
                "If-Match does not match the current version {}",
                scim_core::etag::render(current.version)
            ))
            .into());
        }
        Ok(current)
    }

    async fn patch_outcome(&self, ctx: &Ctx, mut stored: Stored, view: &View) -> Result<PatchOutcome, ServiceError> {
        if self.load_for(stored.kind, view).members {
            let limit = self.settings.patch_response_max_members;
            let (members, more) = self.members_up_to(ctx, &stored.id, limit).await?;
            if more {
                let location = format!("{}{}/{}", view.base, self.rt(stored.kind).endpoint, stored.id);
                return Ok(PatchOutcome::NoContent {
                    version: stored.version,
                    location,
                });
            }
            stored.members = Some(members);
        }
        Ok(PatchOutcome::Resource(self.render(ctx, stored, view).await?))
    }

    /// Applies `[scim] password` to a validated document: `discard` drops
    /// the password; `hash` keeps an argon2id hash of a new one, and the
    /// stored hash when it is unchanged (or, for PUT, omitted).
    async fn protect_password(
        &self,
        doc: &mut Value,
        current: Option<&Value>,
        keep_when_absent: bool,
    ) -> Result<(), ServiceError> {
        let Some(obj) = doc.as_object_mut() else {
            return Ok(());
        };
        if self.settings.password == PasswordMode::Discard {
            obj.remove("password");
            return Ok(());
        }
        let old = current.and_then(|c| c.get("password")).and_then(Value::as_str);
        match obj.get("password").and_then(Value::as_str) {
            Some(new) if Some(new) == old => {}
            Some(new) => {
                let new = new.to_string();
                let hash = auth::blocking(move || auth::hash_secret(new.as_bytes()))
                    .await
                    .and_then(|r| r)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                obj.insert("password".into(), Value::String(hash));
            }
            None => {
                if let (true, Some(old)) = (keep_when_absent, old) {
                    obj.insert("password".into(), Value::String(old.to_string()));
                }
            }
        }
        Ok(())
    }
}

/// Moves a group's `members` out of the validated document: the store
/// keeps them apart.
fn take_members(kind: Kind, doc: &mut Value) -> Result<Vec<Member>, ServiceError> {
    if kind != Kind::Group {
        return Ok(Vec::new());
    }
    match doc.as_object_mut().and_then(|o| o.remove("members")) {
        Some(v) => Ok(Member::list_from_json(&v)?),
        None => Ok(Vec::new()),
    }
}

fn busy() -> ServiceError {
    ScimError::new(
        503,
        None,
        "the resource is being changed by many requests at once; retry",
    )
    .into()
}

/// Sleeps 1-2 ms, doubling per round up to 32-64 ms.
async fn backoff(round: u32) {
    let base = 1u64 << round.min(5);
    let jitter = getrandom::u64().unwrap_or(0) % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
