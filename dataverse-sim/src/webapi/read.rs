//! GET of a collection (filtered, ordered, paged) or of one row, and the shape both answer in.
//!
//! Paging is key-based: the `$skiptoken` of `@odata.nextLink` holds the sort key of the last
//! row returned, and the next page starts strictly after it. A row that leaves the filter
//! between two page reads (the sweeper closes page k while reading page k+1) therefore
//! never makes another row slip past unseen, which offset paging would.

use std::cmp::Ordering;
use std::fmt::Write;
use std::ops::Bound;

use serde_json::{Map, Value};

use super::options::{parse_options, QueryOptions};
use super::order::{compare_keys, sort_key};
use crate::codec::{hex_encode, percent_encode};
use crate::dataset::stamp;
use crate::ids::INTEGRATION_USER_ID;
use crate::index::{is_lookup, EqKey, STATE_COLUMN};
use crate::reply::{resource_not_found, row_not_found, Reply};
use crate::request::{Headers, API_PREFIX};
use crate::state::State;
use crate::store::{etag, key, Row, TableState};

/// One page of matching rows, by id, and whether more rows follow it.
type Page<'a> = (Vec<(&'a String, &'a Row)>, bool);

/// A row as the Web API returns it: its ETag, then the selected columns (all without
/// `$select`) and always the primary key.
pub(super) fn project(row: &Row, table: &TableState, select: Option<&[String]>) -> Value {
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

/// The `@odata.context` of a collection of `set`, naming the selected columns.
pub(super) fn context_url(base: &str, set: &str, select: Option<&[String]>) -> String {
    match select {
        Some(columns) if !columns.is_empty() => {
            format!("{base}{API_PREFIX}$metadata#{set}({})", columns.join(","))
        }
        _ => format!("{base}{API_PREFIX}$metadata#{set}"),
    }
}

/// GET of an entity set: one page, with `@odata.nextLink` when more rows match.
pub(super) fn get_collection(
    state: &mut State,
    set: &str,
    query: &str,
    headers: &Headers,
) -> Reply {
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
    // "Page results": $top beside `Prefer: odata.maxpagesize` is ignored, so such a query is
    // paged like any other. Alone, $top returns at most that many rows and no next link.
    let top = options.top.filter(|_| requested.is_none());
    let limit = top.unwrap_or(page_size);
    let (page, more) = if options.orderby.is_empty() {
        page_by_id(table, &options, limit)
    } else {
        page_by_orderby(table, &options, limit)
    };
    let more = more && top.is_none();

    let base = state.base_url.clone();
    let next_link = page
        .last()
        .filter(|_| more)
        .map(|(id, row)| next_link(&base, set, &options, id, row));
    let text = collection_text(&base, set, table, &options, &page, next_link);
    let ids: Vec<String> = page.iter().map(|(id, _)| (*id).clone()).collect();
    state.stats.rows_served += ids.len() as u64;
    let mut reply = Reply::json_text(200, text);
    if let Some(n) = requested {
        reply = reply.with_header(
            "Preference-Applied",
            format!("odata.maxpagesize={}", n.min(page_size)),
        );
    }
    touch_after_read(state, set, &ids);
    reply
}

/// Without `$orderby` rows come in key order, so a page is a range scan after the token.
fn page_by_id<'a>(table: &'a TableState, options: &QueryOptions, limit: usize) -> Page<'a> {
    let start = match options.skiptoken.as_ref().and_then(|t| t.last()) {
        Some(Value::String(last)) => Bound::Excluded(last.clone()),
        _ => Bound::Unbounded,
    };
    let mut page = Vec::new();
    for (id, row) in rows_from(table, options, start) {
        if !matches(options, row) {
            continue;
        }
        if page.len() == limit {
            return (page, true);
        }
        page.push((id, row));
    }
    (page, false)
}

/// With `$orderby` every matching row is sorted, and the page starts after the token's key.
fn page_by_orderby<'a>(table: &'a TableState, options: &QueryOptions, limit: usize) -> Page<'a> {
    if let Some(page) = first_page_in_time_order(table, options, limit) {
        return page;
    }
    let mut all: Vec<(Vec<Value>, &String, &Row)> = rows_from(table, options, Bound::Unbounded)
        .filter(|(_, row)| matches(options, row))
        .map(|(id, row)| (sort_key(row, &options.orderby, id), id, row))
        .collect();
    // A first page needs only its `limit` rows and one more (to know a next link is due):
    // selecting them first keeps a small page over a large table from sorting all of it
    // (same rows, same order).
    if options.skiptoken.is_none() && limit < all.len() {
        all.select_nth_unstable_by(limit, |a, b| compare_keys(&a.0, &b.0, &options.orderby));
        all.truncate(limit + 1);
    }
    all.sort_by(|a, b| compare_keys(&a.0, &b.0, &options.orderby));
    let start = match &options.skiptoken {
        Some(token) => all.partition_point(|(k, _, _)| {
            compare_keys(k, token, &options.orderby) != Ordering::Greater
        }),
        None => 0,
    };
    let rest = &all[start.min(all.len())..];
    let page = rest
        .iter()
        .take(limit)
        .map(|(_, id, row)| (*id, *row))
        .collect();
    (page, rest.len() > limit)
}

/// A first page ordered by one date and time column ascending, whose filter asks for that
/// column after a moment: read from the ordered index from that moment on, stopping once the
/// page and one more row are found, instead of sorting every match. `None` when the index
/// cannot serve the query. Same rows, same order as the sort.
fn first_page_in_time_order<'a>(
    table: &'a TableState,
    options: &QueryOptions,
    limit: usize,
) -> Option<Page<'a>> {
    let [(column, false)] = options.orderby.as_slice() else {
        return None;
    };
    if options.skiptoken.is_some() {
        return None;
    }
    if no_row_can_match(table, options) {
        return Some((Vec::new(), false));
    }
    let after = options.filter.as_ref()?.lower_bound(column)?;
    let ids = table.index.ordered_from(column, after)?;
    let mut page: Vec<(&String, &Row)> = ids
        .filter_map(|id| table.rows.get_key_value(id))
        .filter(|(_, row)| matches(options, row))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    Some((page, more))
}

/// The rows from `start` on, in key order, that the query must match against its filter: those
/// of the smallest index bucket one of its top-level `eq` comparisons names (no other row can
/// match), or every row. The rows are the same ones a scan would match, in the same order.
fn rows_from<'a>(
    table: &'a TableState,
    options: &QueryOptions,
    start: Bound<String>,
) -> Box<dyn Iterator<Item = (&'a String, &'a Row)> + 'a> {
    if no_row_can_match(table, options) {
        return Box::new(std::iter::empty());
    }
    let equalities = options
        .filter
        .as_ref()
        .map(|filter| filter.equalities())
        .unwrap_or_default();
    if let Some(rows) = rows_in_time_ranges(table, options, &equalities, &start) {
        return Box::new(rows.into_iter());
    }
    let mut buckets: Vec<_> = equalities
        .iter()
        .filter_map(|(column, key)| table.index.rows_with(column, key))
        .collect();
    buckets.sort_by_key(|ids| ids.len());
    let Some((smallest, others)) = buckets.split_first() else {
        return Box::new(table.rows.range((start, Bound::Unbounded)));
    };
    let others = others.to_vec();
    Box::new(
        smallest
            .range((start, Bound::Unbounded))
            .filter(move |id| others.iter().all(|ids| ids.contains(*id)))
            .filter_map(|id| table.rows.get_key_value(id)),
    )
}

/// The rows from `start` on, by id, of the state the filter asks for (and of a lookup value it
/// asks for) that lie at or before its moments in its date and time columns (see
/// [`crate::filter::Expr::upper_bounds`]); `None` when the filter does not have that shape or the
/// index cannot say. No other row can match.
fn rows_in_time_ranges<'a>(
    table: &'a TableState,
    options: &QueryOptions,
    equalities: &[(&str, EqKey)],
    start: &Bound<String>,
) -> Option<Vec<(&'a String, &'a Row)>> {
    let known = |(_, key): &&(&str, EqKey)| *key != EqKey::Null;
    let state = equalities
        .iter()
        .filter(known)
        .find(|(column, _)| *column == STATE_COLUMN)?;
    let lookup = equalities
        .iter()
        .filter(known)
        .find(|(column, _)| is_lookup(column))
        .map(|(column, key)| (*column, key));
    let mut ids: Vec<&String> = Vec::new();
    for (column, at) in options.filter.as_ref()?.upper_bounds()? {
        ids.extend(table.index.scoped_until(&state.1, lookup, column, at)?);
    }
    ids.sort();
    ids.dedup();
    Some(
        ids.into_iter()
            .filter(|id| match start {
                Bound::Excluded(last) => id.as_str() > last.as_str(),
                Bound::Included(first) => id.as_str() >= first.as_str(),
                Bound::Unbounded => true,
            })
            .filter_map(|id| table.rows.get_key_value(id))
            .collect(),
    )
}

/// Whether the filter asks for a date and time column to be null (`column eq null`, joined
/// to the whole filter by `and`) while every row holds text in it: then no row matches.
fn no_row_can_match(table: &TableState, options: &QueryOptions) -> bool {
    let Some(filter) = &options.filter else {
        return false;
    };
    filter.equalities().iter().any(|(column, key)| {
        *key == EqKey::Null && table.index.texts_in(column) == Some(table.rows.len())
    })
}

fn matches(options: &QueryOptions, row: &Row) -> bool {
    options.filter.as_ref().is_none_or(|f| f.matches(row))
}

/// The next page's URL: the same options, and the last row's sort key as `$skiptoken`.
fn next_link(base: &str, set: &str, options: &QueryOptions, id: &str, row: &Row) -> String {
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
    format!("{base}{API_PREFIX}{set}?{}", params.join("&"))
}

/// The collection's JSON, written by hand to keep Dataverse's member order (context, value,
/// next link); serde_json's map would sort the keys.
fn collection_text(
    base: &str,
    set: &str,
    table: &TableState,
    options: &QueryOptions,
    page: &[(&String, &Row)],
    next_link: Option<String>,
) -> String {
    let select = options.select.as_deref();
    let members = members(table, select);
    let mut text = format!(
        "{{\"@odata.context\":{},\"value\":[",
        Value::from(context_url(base, set, select))
    );
    for (n, (_, row)) in page.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        write_projected(&mut text, row, &members);
    }
    text.push(']');
    if let Some(link) = next_link {
        text.push_str(&format!(",\"@odata.nextLink\":{}", Value::from(link)));
    }
    text.push('}');
    text
}

/// A member of a returned row: its ETag, or a column.
#[derive(Clone, Copy)]
enum Member<'a> {
    Etag,
    Column(&'a str),
}

/// The members [`project`] gives a row, each with its name written as JSON and a colon, in the
/// order its object writes them (serde_json's map sorts its keys, the ETag's `@` before any
/// column name): worked out once per page, not per row.
fn members<'a>(table: &'a TableState, select: Option<&'a [String]>) -> Vec<(String, Member<'a>)> {
    let columns: Vec<&str> = match select {
        Some(columns) => columns
            .iter()
            .chain([&table.primary_key])
            .map(String::as_str)
            .collect(),
        None => table.columns.iter().map(String::as_str).collect(),
    };
    let mut members: Vec<(&str, Member)> = columns
        .into_iter()
        .map(|column| (column, Member::Column(column)))
        .chain([("@odata.etag", Member::Etag)])
        .collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    members.dedup_by(|a, b| a.0 == b.0);
    members
        .into_iter()
        .map(|(name, member)| (format!("{}:", Value::from(name)), member))
        .collect()
}

/// Writes `row` as [`project`] returns it, straight into the page's text: a page of thousands
/// of rows is written without building an object for each.
fn write_projected(text: &mut String, row: &Row, members: &[(String, Member)]) {
    text.push('{');
    for (n, (name, member)) in members.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        text.push_str(name);
        // Writing to a String cannot fail.
        let _ = match member {
            Member::Etag => write!(text, "{}", Value::from(etag(row))),
            Member::Column(column) => write!(text, "{}", row.get(*column).unwrap_or(&Value::Null)),
        };
    }
    text.push('}');
}

/// GET of one row by id, with its ETag.
pub(super) fn get_row(state: &mut State, set: &str, id: &str, query: &str) -> Reply {
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::index::EqIndex;

    #[test]
    fn a_page_writes_each_row_as_its_projection_does() {
        let columns = ["w4d_chatsessionid", "w4d_name", "createdon", "_w4d_c_value"];
        let table = TableState {
            entity_name: "w4d_chatsession".into(),
            primary_key: "w4d_chatsessionid".into(),
            columns: columns
                .iter()
                .map(|c| c.to_string())
                .collect::<BTreeSet<_>>(),
            rows: BTreeMap::new(),
            attributes: BTreeMap::new(),
            index: EqIndex::default(),
        };
        let row =
            json!({"w4d_chatsessionid": "a", "w4d_name": "O\"Brien \u{e9}", "versionnumber": 7,
                         "_w4d_c_value": null, "statecode": 0})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let selects: [Option<Vec<String>>; 3] = [
            None,
            Some(vec![
                "createdon".into(),
                "w4d_name".into(),
                "w4d_chatsessionid".into(),
            ]),
            Some(vec![]),
        ];
        for select in &selects {
            let members = members(&table, select.as_deref());
            let mut text = String::new();
            write_projected(&mut text, &row, &members);
            assert_eq!(
                text,
                project(&row, &table, select.as_deref()).to_string(),
                "{select:?}"
            );
        }
    }
}
