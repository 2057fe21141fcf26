//! The query options of a GET (`$select`, `$filter`, `$orderby`, `$top`, `$skiptoken`),
//! each checked against the table's columns before anything is read.

use serde_json::Value;

use crate::codec::{hex_decode, parse_query};
use crate::filter::{self, Expr};
use crate::reply::{bad_query, property_not_found, Reply};
use crate::store::TableState;

/// Parsed query options of a GET.
#[derive(Default)]
pub(super) struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub filter: Option<Expr>,
    pub filter_text: Option<String>,
    pub orderby: Vec<(String, bool)>,
    pub orderby_text: Option<String>,
    pub top: Option<usize>,
    pub skiptoken: Option<Vec<Value>>,
}

/// Parses a GET's query string; the error is the 400 Dataverse answers.
pub(super) fn parse_options(query: &str, table: &TableState) -> Result<QueryOptions, Reply> {
    let mut options = QueryOptions::default();
    for (name, value) in parse_query(query) {
        match name.as_str() {
            "$select" => options.select = Some(parse_select(&value, table)?),
            "$filter" => {
                options.filter = Some(parse_filter(&value, table)?);
                options.filter_text = Some(value);
            }
            "$orderby" => {
                options.orderby.extend(parse_orderby(&value, table)?);
                options.orderby_text = Some(value);
            }
            "$top" => options.top = Some(parse_top(&value)?),
            "$skiptoken" => options.skiptoken = Some(parse_skiptoken(&value)?),
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

fn check_column(table: &TableState, column: &str) -> Result<(), Reply> {
    if table.has_column(column) {
        Ok(())
    } else {
        Err(property_not_found(column, &table.entity_name))
    }
}

fn parse_select(value: &str, table: &TableState) -> Result<Vec<String>, Reply> {
    let columns: Vec<String> = value
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    for column in &columns {
        check_column(table, column)?;
    }
    Ok(columns)
}

fn parse_filter(value: &str, table: &TableState) -> Result<Expr, Reply> {
    let expr = filter::parse(value).map_err(bad_query)?;
    let mut columns = Vec::new();
    expr.columns(&mut columns);
    for column in columns {
        check_column(table, column)?;
    }
    let mut compared = Vec::new();
    expr.datetime_comparisons(&mut compared);
    if let Some((_, op)) = compared.iter().find(|(c, _)| table.is_date_only(c)) {
        // ODataLib's type check: a Date only column is an Edm.Date, and no comparison of an
        // Edm.Date with an Edm.DateTimeOffset literal is defined.
        return Err(bad_query(format!(
            "A binary operator with incompatible types was detected. Found operand types 'Edm.Date' and 'Edm.DateTimeOffset' for operator kind '{}'.",
            op.kind()
        )));
    }
    Ok(expr)
}

fn parse_orderby(value: &str, table: &TableState) -> Result<Vec<(String, bool)>, Reply> {
    let mut orderby = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let mut words = item.split_whitespace();
        let column = words.next().unwrap_or_default().to_string();
        let descending = match words.next() {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("asc") => false,
            Some(d) if d.eq_ignore_ascii_case("desc") => true,
            Some(_) => return Err(bad_query(format!("Syntax error in $orderby '{value}'."))),
        };
        check_column(table, &column)?;
        orderby.push((column, descending));
    }
    Ok(orderby)
}

fn parse_top(value: &str) -> Result<usize, Reply> {
    value.trim().parse::<usize>().map_err(|_| {
        bad_query(format!(
            "Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."
        ))
    })
}

fn parse_skiptoken(value: &str) -> Result<Vec<Value>, Reply> {
    hex_decode(value.trim())
        .and_then(|bytes| serde_json::from_slice::<Vec<Value>>(&bytes).ok())
        .filter(|values| !values.is_empty())
        .ok_or_else(|| bad_query(format!("The $skiptoken '{value}' is not valid.")))
}
