//! `forward_store!`: the `Store` impl of a test fixture that owns a store
//! plus what must be cleaned up after it (a temp dir, a schema, a key
//! prefix). One definition, so every fixture forwards every method, `ping`
//! included, and a new trait method is one line here.

/// `forward_store!(Fixture, field)` implements [`Store`](crate::Store) for
/// `Fixture` by calling the same method on `self.field`.
#[macro_export]
macro_rules! forward_store {
    ($fixture:ty, $field:ident) => {
        #[$crate::conformance::async_trait]
        impl $crate::Store for $fixture {
            fn capabilities(&self) -> $crate::Capabilities {
                self.$field.capabilities()
            }
            async fn ping(&self) -> Result<(), $crate::StoreError> {
                self.$field.ping().await
            }
            async fn create(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                doc: $crate::NewResource,
            ) -> Result<$crate::Stored, $crate::StoreError> {
                self.$field.create(ctx, kind, doc).await
            }
            async fn get(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                id: &str,
                load: $crate::Load,
            ) -> Result<$crate::Stored, $crate::StoreError> {
                self.$field.get(ctx, kind, id, load).await
            }
            async fn get_text(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                id: &str,
            ) -> Result<$crate::StoredText, $crate::StoreError> {
                self.$field.get_text(ctx, kind, id).await
            }
            async fn query(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                query: &$crate::Query,
            ) -> Result<$crate::Page, $crate::StoreError> {
                self.$field.query(ctx, kind, query).await
            }
            async fn query_text(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                query: &$crate::Query,
            ) -> Result<$crate::Page<$crate::StoredText>, $crate::StoreError> {
                self.$field.query_text(ctx, kind, query).await
            }
            async fn update(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                id: &str,
                expect: $crate::Precondition,
                update: $crate::Update,
            ) -> Result<$crate::Stored, $crate::StoreError> {
                self.$field.update(ctx, kind, id, expect, update).await
            }
            async fn delete(
                &self,
                ctx: &$crate::Ctx,
                kind: $crate::Kind,
                id: &str,
                expect: $crate::Precondition,
            ) -> Result<(), $crate::StoreError> {
                self.$field.delete(ctx, kind, id, expect).await
            }
            async fn members(
                &self,
                ctx: &$crate::Ctx,
                group: &str,
                page: $crate::MemberCursor,
            ) -> Result<$crate::MemberPage, $crate::StoreError> {
                self.$field.members(ctx, group, page).await
            }
            async fn groups_of(
                &self,
                ctx: &$crate::Ctx,
                member: &str,
            ) -> Result<Vec<$crate::GroupRef>, $crate::StoreError> {
                self.$field.groups_of(ctx, member).await
            }
            async fn groups_of_each(
                &self,
                ctx: &$crate::Ctx,
                members: &[String],
            ) -> Result<Vec<Vec<$crate::GroupRef>>, $crate::StoreError> {
                self.$field.groups_of_each(ctx, members).await
            }
            async fn create_tenant(&self, name: &str) -> Result<$crate::Tenant, $crate::StoreError> {
                self.$field.create_tenant(name).await
            }
            async fn tenants(&self) -> Result<Vec<$crate::Tenant>, $crate::StoreError> {
                self.$field.tenants().await
            }
            async fn tenant_by_name(&self, name: &str) -> Result<$crate::Tenant, $crate::StoreError> {
                self.$field.tenant_by_name(name).await
            }
            async fn delete_tenant(&self, id: &str) -> Result<(), $crate::StoreError> {
                self.$field.delete_tenant(id).await
            }
            async fn create_token(&self, token: $crate::TokenRecord) -> Result<(), $crate::StoreError> {
                self.$field.create_token(token).await
            }
            async fn token(&self, id: &str) -> Result<$crate::TokenRecord, $crate::StoreError> {
                self.$field.token(id).await
            }
            async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<$crate::TokenRecord>, $crate::StoreError> {
                self.$field.tokens(tenant).await
            }
            async fn revoke_token(&self, id: &str) -> Result<(), $crate::StoreError> {
                self.$field.revoke_token(id).await
            }
            async fn touch_token(
                &self,
                id: &str,
                at: $crate::conformance::chrono::DateTime<$crate::conformance::chrono::Utc>,
            ) -> Result<(), $crate::StoreError> {
                self.$field.touch_token(id, at).await
            }
            async fn audit(
                &self,
                tenant: &str,
                query: &$crate::AuditQuery,
            ) -> Result<Vec<$crate::AuditEvent>, $crate::StoreError> {
                self.$field.audit(tenant, query).await
            }
        }
    };
}
