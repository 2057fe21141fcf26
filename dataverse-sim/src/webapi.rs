//! Single Web API operations on the store: GET of a collection (with `$select`, `$filter`,
//! `$orderby`, `$top`, paging) or of one row, PATCH of one row with `If-Match` (recording the
//! application user and the time as the row's last change), and the `WhoAmI` function. Both a
//! top-level request and an operation inside a `$batch` come through [`dispatch`], so they
//! behave identically.
//!
//! Paging is key-based: the `$skiptoken` of `@odata.nextLink` holds the sort key of the last
//! row returned, and the next page starts strictly after it. A row that leaves the filter
//! between two page reads (the sweeper closes page k while reading page k+1) therefore
//! never makes another row slip past unseen, which offset paging would.

use std::cmp::Ordering;
use std::ops::Bound;

use serde_json::{Map, Value};

use crate::codec::{hex_decode, hex_encode, parse_query, percent_decode, percent_encode};
use crate::dataset::stamp;
use crate::filter::{self, Expr};
use crate::reply::{
    bad_query, codes, dataverse_error, property_not_found, resource_not_found, row_not_found, Reply,
};
use crate::state::State;
use crate::store::{etag, key, Row, TableState};
use crate::{APPLICATION_USER_ID, BUSINESS_UNIT_ID, INTEGRATION_USER_ID, ORGANIZATION_ID};

/// The path prefix of the Web API.
pub(crate) const API_PREFIX: &str = "/api/data/v9.2/";

/// Request headers with case-insensitive lookup.
#[derive(Clone, Debug, Default)]
pub(crate) struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of a header, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when a `Prefer` header carries this preference (`name` or `name=value`).
    pub(crate) fn prefers(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("prefer"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .find_map(|p| match p.split_once('=') {
                Some((n, v)) if n.trim().eq_ignore_ascii_case(name) => {
                    Some(v.trim().trim_matches('"').to_string())
                }
                None if p.eq_ignore_ascii_case(name) => Some(String::new()),
                _ => None,
            })
    }
}

/// The entity set and (optionally) the row a path addresses.
pub(crate) struct Resource {
    pub set: String,
    pub id: Option<String>,
}

/// Parses `set`, `set(<guid>)`, `set('<key>')` or `set(<pk>=<guid>)`.
pub(crate) fn parse_resource(path: &str) -> Result<Resource, Reply> {
    let path = percent_decode(path, false);
    if path.contains('/') {
        return Err(bad_query(format!(
            "The path '{path}' is not supported by dataverse-sim (only an entity set or one row)."
        )));
    }
    match path.split_once('(') {
        None => Ok(Resource {
            set: path,
            id: None,
        }),
        Some((set, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| {
                bad_query(format!("Bad Request - Error in query syntax: '{path}'."))
            })?;
            let value = inner.split_once('=').map_or(inner, |(_, v)| v).trim();
            let id = value.trim_matches('\'').to_string();
            if id.is_empty() {
                return Err(bad_query(format!(
                    "Bad Request - Error in query syntax: '{path}'."
                )));
            }
            Ok(Resource {
                set: set.to_string(),
                id: Some(id),
            })
        }
    }
}

/// Runs one Web API operation. `target` is the part after `/api/data/v9.2/`, query included.
pub(crate) fn dispatch(
    state: &mut State,
    method: &str,
    target: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    if let Some(reply) = crate::metadata::dispatch(state, method, target) {
        return reply;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path == "WhoAmI" || path == "WhoAmI()" {
        return who_am_i(state, method);
    }
    let resource = match parse_resource(path) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if state.store.table(&resource.set).is_none() {
        return resource_not_found(&resource.set);
    }
    if method == "GET" {
        if let Some(reply) = denied(state, &resource.set) {
            return reply;
        }
    }
    match (method, resource.id) {
        ("GET", None) => {
            state.stats.reads += 1;
            get_collection(state, &resource.set, query, headers)
        }
        ("GET", Some(id)) => {
            state.stats.reads += 1;
            get_row(state, &resource.set, &id, query)
        }
        ("PATCH", Some(id)) => {
            state.stats.patches += 1;
            patch(state, &resource.set, &id, headers, body)
        }
        (other, _) => dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            format!(
                "The HTTP method '{other}' is not supported by dataverse-sim for this resource."
            ),
        ),
    }
}

/// The unbound `WhoAmI` function: the application user the bearer token stands for, as the
/// `WhoAmIResponse` complex type.
fn who_am_i(state: &mut State, method: &str) -> Reply {
    if method != "GET" {
        return dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            format!("The HTTP method '{method}' is not supported for the function 'WhoAmI'."),
        );
    }
    state.stats.reads += 1;
    let context = format!(
        "{}{API_PREFIX}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
        state.base_url
    );
    Reply::json(
        200,
        &serde_json::json!({
            "@odata.context": context,
            "BusinessUnitId": BUSINESS_UNIT_ID,
            "UserId": APPLICATION_USER_ID,
            "OrganizationId": ORGANIZATION_ID,
        }),
    )
}

/// The 403 Dataverse answers when the application user lacks the read privilege that
/// [`crate::Sim::deny_privilege`] took away for `set`.
pub(crate) fn denied(state: &State, set: &str) -> Option<Reply> {
    let privilege = state.denied.get(set)?;
    Some(dataverse_error(
        403,
        codes::PRIVILEGE_DENIED,
        format!("Principal user (Id={APPLICATION_USER_ID}, type=8, roleCount=1, privilegeCount=0, accessMode=4), is missing {privilege} privilege (Id=00000000-0000-0000-0000-000000000000) on OTC=0 for entity '{set}'."),
    ))
}

/// Parsed query options of a GET.
struct QueryOptions {
    select: Option<Vec<String>>,
    filter: Option<Expr>,
    filter_text: Option<String>,
    orderby: Vec<(String, bool)>,
    orderby_text: Option<String>,
    top: Option<usize>,
    skiptoken: Option<Vec<Value>>,
}

fn parse_options(query: &str, table: &TableState) -> Result<QueryOptions, Reply> {
    let mut options = QueryOptions {
        select: None,
        filter: None,
        filter_text: None,
        orderby: Vec::new(),
        orderby_text: None,
        top: None,
        skiptoken: None,
    };
    let check = |column: &str| -> Result<(), Reply> {
        if table.has_column(column) {
            Ok(())
        } else {
            Err(property_not_found(column, &table.entity_name))
        }
    };
    for (name, value) in parse_query(query) {
        match name.as_str() {
            "$select" => {
                let columns: Vec<String> = value
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                for column in &columns {
                    check(column)?;
                }
                options.select = Some(columns);
            }
            "$filter" => {
                let expr = filter::parse(&value).map_err(bad_query)?;
                let mut columns = Vec::new();
                expr.columns(&mut columns);
                for column in columns {
                    check(column)?;
                }
                options.filter = Some(expr);
                options.filter_text = Some(value);
            }
            "$orderby" => {
                for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let mut words = item.split_whitespace();
                    let column = words.next().unwrap_or_default().to_string();
                    let descending = match words.next() {
                        None => false,
                        Some(d) if d.eq_ignore_ascii_case("asc") => false,
                        Some(d) if d.eq_ignore_ascii_case("desc") => true,
                        Some(_) => {
                            return Err(bad_query(format!("Syntax error in $orderby '{value}'.")))
                        }
                    };
                    check(&column)?;
                    options.orderby.push((column, descending));
                }
                options.orderby_text = Some(value);
            }
            "$top" => {
                let top = value.trim().parse::<usize>().map_err(|_| {
                    bad_query(format!(
                        "Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."
                    ))
                })?;
                options.top = Some(top);
            }
            "$skiptoken" => {
                let token = hex_decode(value.trim())
                    .and_then(|bytes| serde_json::from_slice::<Vec<Value>>(&bytes).ok())
                    .filter(|values| !values.is_empty())
                    .ok_or_else(|| bad_query(format!("The $skiptoken '{value}' is not valid.")))?;
                options.skiptoken = Some(token);
            }
            other if other.starts_with('$') => {
                return Err(bad_query(format!(
                    "The query option '{other}' is not supported by dataverse-sim."
                )))
            }
            // Non-$ parameters (e.g. aliases) are ignored, as OData ignores unknown ones.
            _ => {}
        }
    }
    // A token from another query (other $orderby) would resume at a meaningless place.
    if let Some(token) = &options.skiptoken {
        if token.len() != options.orderby.len() + 1 || !token.last().is_some_and(Value::is_string) {
            return Err(bad_query("The $skiptoken does not belong to this query."));
        }
    }
    Ok(options)
}

/// Total order used by `$orderby` and paging: null first, then booleans, numbers, strings
/// (case-insensitive, as under SQL Server's default collation).
fn order_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn sort_key(row: &Row, orderby: &[(String, bool)], id: &str) -> Vec<Value> {
    let mut key: Vec<Value> = orderby
        .iter()
        .map(|(c, _)| row.get(c).cloned().unwrap_or(Value::Null))
        .collect();
    key.push(Value::from(id));
    key
}

fn compare_keys(a: &[Value], b: &[Value], orderby: &[(String, bool)]) -> Ordering {
    for (index, (x, y)) in a.iter().zip(b).enumerate() {
        let descending = orderby.get(index).is_some_and(|(_, d)| *d);
        let ordering = order_values(x, y);
        let ordering = if descending {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

fn project(row: &Row, table: &TableState, select: Option<&[String]>) -> Value {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), Value::from(etag(row)));
    let mut put = |column: &str| {
        out.insert(
            column.to_string(),
            row.get(column).cloned().unwrap_or(Value::Null),
        );
    };
    match select {
        Some(columns) => {
            for column in columns {
                put(column);
            }
            // Dataverse always returns the primary key, selected or not.
            put(&table.primary_key);
        }
        None => {
            for column in &table.columns {
                put(column);
            }
        }
    }
    Value::Object(out)
}

fn context_url(base: &str, set: &str, select: Option<&[String]>) -> String {
    match select {
        Some(columns) if !columns.is_empty() => {
            format!("{base}{API_PREFIX}$metadata#{set}({})", columns.join(","))
        }
        _ => format!("{base}{API_PREFIX}$metadata#{set}"),
    }
}

fn get_collection(state: &mut State, set: &str, query: &str, headers: &Headers) -> Reply {
    let Some(table) = state.store.table(set) else {
        return resource_not_found(set);
    };
    let options = match parse_options(query, table) {
        Ok(o) => o,
        Err(reply) => return reply,
    };
    let requested = headers
        .prefers("odata.maxpagesize")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0);
    let page_size = requested
        .unwrap_or(state.options.max_page_size)
        .min(state.options.max_page_size)
        .max(1);
    // With $top Dataverse returns at most that many rows and no next link; the page size
    // preference does not apply.
    let limit = options.top.unwrap_or(page_size);
    let matches = |row: &Row| options.filter.as_ref().is_none_or(|f| f.matches(row));

    let mut page: Vec<(&String, &Row)> = Vec::new();
    let mut more = false;
    if options.orderby.is_empty() {
        let start = match options.skiptoken.as_ref().and_then(|t| t.last()) {
            Some(Value::String(last)) => Bound::Excluded(last.clone()),
            _ => Bound::Unbounded,
        };
        for (id, row) in table.rows.range((start, Bound::Unbounded)) {
            if !matches(row) {
                continue;
            }
            if page.len() == limit {
                more = true;
                break;
            }
            page.push((id, row));
        }
    } else {
        let mut all: Vec<(Vec<Value>, &String, &Row)> = table
            .rows
            .iter()
            .filter(|(_, row)| matches(row))
            .map(|(id, row)| (sort_key(row, &options.orderby, id), id, row))
            .collect();
        // With $top and no skiptoken only the first rows are wanted: selecting them first keeps
        // a `$top=1` over a large table from sorting all of it (same rows, same order).
        if let (Some(top), None) = (options.top, &options.skiptoken) {
            if top < all.len() {
                all.select_nth_unstable_by(top, |a, b| compare_keys(&a.0, &b.0, &options.orderby));
                all.truncate(top);
            }
        }
        all.sort_by(|a, b| compare_keys(&a.0, &b.0, &options.orderby));
        let start = match &options.skiptoken {
            Some(token) => all.partition_point(|(k, _, _)| {
                compare_keys(k, token, &options.orderby) != Ordering::Greater
            }),
            None => 0,
        };
        let rest = &all[start.min(all.len())..];
        more = rest.len() > limit;
        page.extend(rest.iter().take(limit).map(|(_, id, row)| (*id, *row)));
    }
    if options.top.is_some() {
        more = false;
    }

    let select = options.select.as_deref();
    let values: Vec<Value> = page
        .iter()
        .map(|(_, row)| project(row, table, select))
        .collect();
    let base = state.base_url.clone();
    let mut next_link = None;
    if more {
        if let Some((id, row)) = page.last() {
            let token = sort_key(row, &options.orderby, id);
            let token = hex_encode(Value::Array(token).to_string().as_bytes());
            let mut params = Vec::new();
            if let Some(columns) = &options.select {
                params.push(format!("$select={}", percent_encode(&columns.join(","))));
            }
            if let Some(text) = &options.filter_text {
                params.push(format!("$filter={}", percent_encode(text)));
            }
            if let Some(text) = &options.orderby_text {
                params.push(format!("$orderby={}", percent_encode(text)));
            }
            params.push(format!("$skiptoken={token}"));
            next_link = Some(format!("{base}{API_PREFIX}{set}?{}", params.join("&")));
        }
    }
    // Written by hand to keep Dataverse's member order (context, value, next link);
    // serde_json's map would sort the keys.
    let mut text = format!(
        "{{\"@odata.context\":{},\"value\":{}",
        Value::from(context_url(&base, set, select)),
        Value::Array(values)
    );
    if let Some(link) = next_link {
        text.push_str(&format!(",\"@odata.nextLink\":{}", Value::from(link)));
    }
    text.push('}');
    let ids: Vec<String> = page.iter().map(|(id, _)| (*id).clone()).collect();
    state.stats.rows_read += ids.len() as u64;
    let mut reply = Reply::json_text(200, text);
    if let Some(n) = requested.filter(|_| options.top.is_none()) {
        reply = reply.with_header(
            "Preference-Applied",
            format!("odata.maxpagesize={}", n.min(page_size)),
        );
    }
    touch_after_read(state, set, &ids);
    reply
}

fn get_row(state: &mut State, set: &str, id: &str, query: &str) -> Reply {
    let Some(table) = state.store.table(set) else {
        return resource_not_found(set);
    };
    let options = match parse_options(query, table) {
        Ok(o) => o,
        Err(reply) => return reply,
    };
    let Some(row) = table.rows.get(&key(id)) else {
        return row_not_found(&table.entity_name, id);
    };
    let select = options.select.as_deref();
    let mut value = project(row, table, select);
    if let Value::Object(object) = &mut value {
        let context = format!("{}/$entity", context_url(&state.base_url, set, select));
        object.insert("@odata.context".into(), Value::from(context));
    }
    let tag = etag(row);
    let reply = Reply::json(200, &value).with_header("ETag", tag);
    touch_after_read(state, set, &[key(id)]);
    reply
}

/// Simulates a customer message arriving right after a read: once per configured id.
fn touch_after_read(state: &mut State, set: &str, ids: &[String]) {
    if state.faults.touches_nothing() {
        return;
    }
    for id in ids {
        if state.faults.should_touch(id, key) {
            let mut changes = Map::new();
            if let Some(column) = &state.faults.switches.touch_column {
                changes.insert(column.clone(), Value::from(stamp(state.store.clock.now())));
            }
            // The customer's message arrives through the integration, not this client.
            state.store.merge(set, id, &changes, INTEGRATION_USER_ID);
        }
    }
}

/// True when an `If-Match` value matches the row's ETag (`*` matches any row).
fn etag_matches(if_match: &str, row: &Row) -> bool {
    let current = etag(row);
    let bare = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    if_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(&current))
}

fn patch(state: &mut State, set: &str, id: &str, headers: &Headers, body: &[u8]) -> Reply {
    let Some(table) = state.store.table(set) else {
        return resource_not_found(set);
    };
    let entity = table.entity_name.clone();
    let changes = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return dataverse_error(
                400,
                codes::BAD_PAYLOAD,
                format!("Error identified in Payload provided by the user for Entity :'{entity}'. The request body must be a JSON object."),
            )
        }
    };
    let mut accepted = Map::new();
    for (name, value) in changes {
        if let Some(navigation) = name.strip_suffix("@odata.bind") {
            // `nav@odata.bind: "/set(id)"` sets the lookup column `_nav_value`.
            let column = format!("_{navigation}_value");
            if !table.has_column(&column) {
                return undeclared_property(navigation, &entity);
            }
            let target = value.as_str().and_then(|s| {
                let s = s.rsplit('/').next()?;
                parse_resource(s).ok()?.id
            });
            match (target, &value) {
                (Some(target), _) => accepted.insert(column, Value::from(key(&target))),
                (None, Value::Null) => accepted.insert(column, Value::Null),
                (None, _) => {
                    return dataverse_error(
                        400,
                        codes::BAD_PAYLOAD,
                        format!("The value of '{name}' is not a valid entity reference."),
                    )
                }
            };
        } else if name.starts_with('@') || name.contains("@odata.") {
            continue;
        } else if !table.has_column(&name) {
            return undeclared_property(&name, &entity);
        } else {
            accepted.insert(name, value);
        }
    }
    let existing = table.rows.get(&key(id));
    let if_match = headers.get("If-Match");
    match (existing, if_match) {
        (None, Some(_)) => return row_not_found(&entity, id),
        (Some(row), Some(tag)) if !etag_matches(tag, row) => return dataverse_error(
            412,
            codes::CONCURRENCY_VERSION_MISMATCH,
            "The version of the existing record doesn't match the RowVersion property provided.",
        ),
        (Some(_), _)
            if headers
                .get("If-None-Match")
                .is_some_and(|v| v.trim() == "*") =>
        {
            // Upsert that must only create: the row exists.
            return dataverse_error(
                412,
                codes::CONCURRENCY_VERSION_MISMATCH,
                "A record with matching key values already exists.",
            );
        }
        (None, None) => {
            // Dataverse treats PATCH without If-Match as an upsert: the row is created.
            let primary_key = table.primary_key.clone();
            let mut row = accepted.clone();
            row.insert(primary_key, Value::from(key(id)));
            row.insert("_modifiedby_value".into(), Value::from(APPLICATION_USER_ID));
            state.store.insert(set, Value::Object(row));
        }
        (Some(_), _) => {
            state.store.merge(set, id, &accepted, APPLICATION_USER_ID);
        }
    }
    let entity_id = format!("{}{API_PREFIX}{set}({})", state.base_url, key(id));
    let representation = headers
        .prefers("return")
        .is_some_and(|v| v.eq_ignore_ascii_case("representation"));
    match (
        representation,
        state.store.table(set),
        state.store.get(set, id),
    ) {
        (true, Some(table), Some(row)) => {
            let mut value = project(row, table, None);
            if let Value::Object(object) = &mut value {
                let context = format!("{}/$entity", context_url(&state.base_url, set, None));
                object.insert("@odata.context".into(), Value::from(context));
            }
            Reply::json(200, &value).with_header("OData-EntityId", entity_id)
        }
        _ => Reply::empty(204).with_header("OData-EntityId", entity_id),
    }
}

/// ODataLib's payload error for a property the type does not declare.
fn undeclared_property(name: &str, entity: &str) -> Reply {
    dataverse_error(
        400,
        codes::QUERY_SYNTAX,
        format!("The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{entity}'. Make sure to only use property names that are defined by the type or mark the type as open type."),
    )
}

/// The JSON of every row of a table, ordered by key (admin endpoint and [`crate::Sim::rows`]).
pub(crate) fn all_rows(state: &State, set: &str) -> Option<Vec<Value>> {
    let table = state.store.table(set)?;
    Some(
        table
            .rows
            .values()
            .map(|row| Value::Object(row.clone()))
            .collect(),
    )
}
