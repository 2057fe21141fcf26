//! `EntityDefinitions(LogicalName='…')/ManyToOneRelationships`: one
//! `OneToManyRelationshipMetadata` per table a lookup of this table may point to, derived from
//! the lookup's declaration (`Targets`, `NavigationProperty`, `RelationshipSchemaName`), with
//! the properties a caller uses to find a lookup's navigation property and its table:
//! `SchemaName`, `ReferencedEntity`, `ReferencedAttribute`, `ReferencingEntity`,
//! `ReferencingAttribute`, `ReferencedEntityNavigationPropertyName`,
//! `ReferencingEntityNavigationPropertyName`, `RelationshipType`. A `$filter` of the form
//! `<property> eq '<value>'` (exact match) narrows them; `$select` is accepted and not applied.

use serde_json::{json, Value};

use super::metadata_id;
use crate::codec::parse_query;
use crate::reply::{bad_query, Reply};
use crate::store::{Store, TableState};

/// The many-to-one relationships of `table`, as the Web API lists them.
pub(super) fn many_to_one(store: &Store, table: &TableState, query: &str) -> Reply {
    let mut wanted: Option<(String, String)> = None;
    for (name, value) in parse_query(query) {
        if name != "$filter" {
            continue;
        }
        let mut words = value.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some(property), Some("eq"), Some(literal))
                if literal.len() >= 2 && literal.starts_with('\'') && literal.ends_with('\'') =>
            {
                let literal = literal[1..literal.len() - 1].to_string();
                wanted = Some((property.to_string(), literal));
            }
            _ => {
                return bad_query(format!(
                    "dataverse-sim filters ManyToOneRelationships only by <property> eq '…', not '{value}'."
                ))
            }
        }
    }
    let value: Vec<Value> = relationships(store, table)
        .into_iter()
        .filter(|r| match &wanted {
            None => true,
            Some((property, literal)) => r[property].as_str() == Some(literal.as_str()),
        })
        .collect();
    Reply::json(200, &json!({ "value": value }))
}

fn relationships(store: &Store, table: &TableState) -> Vec<Value> {
    let mut out = Vec::new();
    for column in &table.columns {
        let Some(navigation) = table.navigation_of(column) else {
            continue;
        };
        let declared = table.attributes.get(column).cloned().unwrap_or(Value::Null);
        let lookup = column
            .strip_prefix('_')
            .and_then(|c| c.strip_suffix("_value"))
            .unwrap_or(column);
        for target in declared["Targets"].as_array().into_iter().flatten() {
            let Some(target) = target.as_str() else {
                continue;
            };
            let schema_name = declared["RelationshipSchemaName"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{target}_{}_{lookup}", table.entity_name));
            let referenced_key = store
                .table_by_logical_name(target)
                .map(|(_, t)| t.primary_key.clone())
                .unwrap_or_else(|| format!("{target}id"));
            out.push(json!({
                "@odata.type": "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
                "MetadataId": metadata_id(&schema_name),
                "SchemaName": schema_name,
                "RelationshipType": "OneToManyRelationship",
                "ReferencedEntity": target,
                "ReferencedAttribute": referenced_key,
                "ReferencingEntity": table.entity_name,
                "ReferencingAttribute": lookup,
                "ReferencedEntityNavigationPropertyName": schema_name,
                "ReferencingEntityNavigationPropertyName": navigation,
            }));
        }
    }
    out
}
