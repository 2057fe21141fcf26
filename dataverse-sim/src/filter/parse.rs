//! Filter text to an [`Expr`]: a tokenizer, then a recursive-descent parser with OData's
//! precedence (`not` binds tighter than `and`, `and` tighter than `or`).

use super::expr::{parse_datetime, CmpOp, Expr, Literal, Operand};

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Str(String),
    Word(String),
}

/// Parses filter text; the error is the message Dataverse-style 400s carry.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        text,
    };
    let expr = parser.or_expr()?;
    if parser.position < parser.tokens.len() {
        return Err(parser.syntax_error());
    }
    Ok(expr)
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push((Token::Open, i));
            i += 1;
        } else if c == ')' {
            tokens.push((Token::Close, i));
            i += 1;
        } else if c == '\'' {
            let start = i;
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                        "There is an unterminated string literal at position {start} in '{text}'."
                    ))
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            tokens.push((Token::Str(value), start));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || "_-:.+".contains(chars[i]))
            {
                i += 1;
            }
            tokens.push((Token::Word(chars[start..i].iter().collect()), start));
        } else {
            return Err(format!(
                "Syntax error: character '{c}' is not valid at position {i} in '{text}'."
            ));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    position: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn syntax_error(&self) -> String {
        let at = self
            .tokens
            .get(self.position)
            .map(|(_, at)| *at)
            .unwrap_or(self.text.chars().count());
        format!("Syntax error at position {at} in '{}'.", self.text)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.position), Some((Token::Word(w), _)) if w == word)
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.position += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.position += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.position += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.tokens.get(self.position), Some((Token::Open, _))) {
            self.position += 1;
            let inner = self.or_expr()?;
            if !matches!(self.tokens.get(self.position), Some((Token::Close, _))) {
                return Err(self.syntax_error());
            }
            self.position += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.position) {
            Some((Token::Word(w), _)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                _ => return Err(self.syntax_error()),
            },
            _ => return Err(self.syntax_error()),
        };
        self.position += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let Some((token, _)) = self.tokens.get(self.position).cloned() else {
            return Err(format!(
                "Expression expected at position {} in '{}'.",
                self.text.chars().count(),
                self.text
            ));
        };
        let operand = match token {
            Token::Str(s) => Operand::Literal(Literal::Str(s)),
            Token::Word(word) => classify(&word).ok_or_else(|| self.syntax_error())?,
            Token::Open | Token::Close => return Err(self.syntax_error()),
        };
        self.position += 1;
        Ok(operand)
    }
}

const KEYWORDS: [&str; 9] = ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le"];

fn classify(word: &str) -> Option<Operand> {
    match word {
        "null" => return Some(Operand::Literal(Literal::Null)),
        "true" => return Some(Operand::Literal(Literal::Bool(true))),
        "false" => return Some(Operand::Literal(Literal::Bool(false))),
        w if KEYWORDS.contains(&w) => return None,
        _ => {}
    }
    if is_guid(word) {
        return Some(Operand::Literal(Literal::Guid(word.to_ascii_lowercase())));
    }
    if let Some(at) = parse_datetime(word) {
        return Some(Operand::Literal(Literal::DateTime(at)));
    }
    let first = word.chars().next()?;
    if first.is_ascii_digit() || first == '-' {
        return word
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| Operand::Literal(Literal::Number(n)));
    }
    if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(Operand::Column(word.to_string()));
    }
    None
}

fn is_guid(word: &str) -> bool {
    let groups: Vec<&str> = word.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}
