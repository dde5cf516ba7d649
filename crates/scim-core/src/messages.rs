//! Wire message types of RFC 7644: ListResponse (§3.4.2), SearchRequest
//! (§3.4.3), BulkRequest/BulkResponse (§3.7), and the discovery document
//! ServiceProviderConfig (RFC 7643 §5). The PatchOp message lives with the
//! PATCH engine (`crate::patch::PatchRequest`).
//!
//! Field names are the RFC's exactly; counts serialize as JSON integers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

fn list_response_schemas() -> Vec<String> {
    vec![LIST_RESPONSE_URN.to_string()]
}

/// A page of query results: of `Value`s, or of resources already rendered
/// as JSON text (the server's list pages, which it writes out itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<R = Value> {
    #[serde(default = "list_response_schemas")]
    pub schemas: Vec<String>,
    pub total_results: u64,
    /// 1-based index of the first result (RFC 7644 §3.4.2.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items_per_page: Option<u64>,
    /// RFC 9865 cursor paging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
    #[serde(rename = "Resources", default = "Vec::new")]
    pub resources: Vec<R>,
}

impl<R> ListResponse<R> {
    /// An index-paged response.
    pub fn new(total_results: u64, start_index: u64, resources: Vec<R>) -> ListResponse<R> {
        ListResponse {
            schemas: list_response_schemas(),
            total_results,
            start_index: Some(start_index),
            items_per_page: Some(resources.len() as u64),
            next_cursor: None,
            previous_cursor: None,
            resources,
        }
    }
}

/// POST /.search body (RFC 7644 §3.4.3). Unknown members are rejected so a
/// typo such as `filtr` is an error, not a silent "match all".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchRequest {
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One operation of a BulkRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRequest {
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_errors: Option<u32>,
    #[serde(rename = "Operations")]
    pub operations: Vec<BulkOperation>,
}

/// The result of one bulk operation. `status` is the HTTP status as a
/// string, as in the RFC's examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperationResult {
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkResponse {
    pub schemas: Vec<String>,
    #[serde(rename = "Operations")]
    pub operations: Vec<BulkOperationResult>,
}

impl BulkResponse {
    pub fn new(operations: Vec<BulkOperationResult>) -> BulkResponse {
        BulkResponse {
            schemas: vec![BULK_RESPONSE_URN.to_string()],
            operations,
        }
    }
}

/// `{"supported": bool}`, the shape of most ServiceProviderConfig features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supported {
    pub supported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkConfig {
    pub supported: bool,
    pub max_operations: u32,
    pub max_payload_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    pub supported: bool,
    pub max_results: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationScheme {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// The `/ServiceProviderConfig` document (RFC 7643 §5). The server builds it
/// from its configuration and the store's capabilities, so it never claims
/// what is not there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    pub patch: Supported,
    pub bulk: BulkConfig,
    pub filter: FilterConfig,
    pub change_password: Supported,
    pub sort: Supported,
    pub etag: Supported,
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// RFC 9865 `pagination`, present once cursor paging exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_response_matches_rfc_shape() {
        let v = serde_json::to_value(ListResponse::new(2, 1, vec![json!({"id": "a"})])).unwrap();
        assert_eq!(
            v,
            json!({"schemas": [LIST_RESPONSE_URN], "totalResults": 2, "startIndex": 1, "itemsPerPage": 1,
                   "Resources": [{"id": "a"}]})
        );
        assert!(v["totalResults"].is_u64());
    }

    #[test]
    fn search_request_reads_rfc_example_and_rejects_typos() {
        let r: SearchRequest = serde_json::from_value(json!({
            "schemas": [SEARCH_REQUEST_URN],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": 10
        }))
        .unwrap();
        assert_eq!(r.count, Some(10));
        assert_eq!(r.attributes, ["displayName", "userName"]);
        assert!(serde_json::from_value::<SearchRequest>(json!({"filtr": "x"})).is_err());
    }

    #[test]
    fn bulk_messages_round_trip_rfc_example() {
        let req = json!({
            "schemas": [BULK_REQUEST_URN],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "qwerty",
                 "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Alice"}},
                {"method": "DELETE", "path": "/Users/b7c14771", "version": "W/\"0ee8add0a938e1a\""}
            ]
        });
        let parsed: BulkRequest = serde_json::from_value(req.clone()).unwrap();
        assert_eq!(parsed.operations[0].bulk_id.as_deref(), Some("qwerty"));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), req);
        let resp = BulkResponse::new(vec![BulkOperationResult {
            method: "POST".into(),
            bulk_id: Some("qwerty".into()),
            version: Some("W/\"1\"".into()),
            location: Some("https://example.com/v2/Users/92b7".into()),
            status: "201".into(),
            response: None,
        }]);
        let v = serde_json::to_value(resp).unwrap();
        assert_eq!(v["Operations"][0]["status"], "201");
        assert_eq!(v["schemas"][0], BULK_RESPONSE_URN);
    }
}
