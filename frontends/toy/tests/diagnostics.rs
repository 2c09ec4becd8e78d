//! One test per class of diagnostic, each asserting the exact
//! `file:line:column` and message.

/// The one-line headers of `source`'s diagnostics.
fn errors(source: &str) -> Vec<String> {
    match cfree_toy::check("t.toy", source) {
        Ok(_) => panic!("no diagnostics for:\n{source}"),
        Err(diagnostics) => diagnostics.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts exactly one diagnostic.
fn error(source: &str) -> String {
    let errors = errors(source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

/// Wraps statements in a valid `main`, whose body starts on line 2.
fn in_main(body: &str) -> String {
    format!("fn main(n: int) -> int {{\n{body}\n    return 0;\n}}\n")
}

#[test]
fn unknown_variable() {
    assert_eq!(error(&in_main("    let a = n + m;")), "t.toy:2:17: error: unknown variable `m`");
}

#[test]
fn unknown_variable_after_its_block_ends() {
    let source = in_main("    if true {\n        let inner = 1;\n    }\n    n = inner;");
    assert_eq!(error(&source), "t.toy:5:9: error: unknown variable `inner`");
}

#[test]
fn type_mismatch_names_both_types() {
    assert_eq!(
        error(&in_main("    let x: int = 1.5;")),
        "t.toy:2:18: error: type mismatch: expected `int`, found `float`"
    );
    let source =
        "type A { b: [A] }\nfn main(n: int) -> int {\n    let a = new A { b: new [int](n) };\n    return 0;\n}";
    assert_eq!(error(source), "t.toy:3:24: error: type mismatch: expected `[A]`, found `[int]`");
    assert_eq!(
        error(&in_main("    n = n + 1.0;")),
        "t.toy:2:11: error: mismatched operand types for `+`: `int` and `float`"
    );
    assert_eq!(error(&in_main("    n = nil;")), "t.toy:2:9: error: type mismatch: expected `int`, found `nil`");
}

#[test]
fn wrong_argument_count() {
    let source = "fn f(a: int, b: int) -> int {\n    return a;\n}\nfn main(n: int) -> int {\n    return f(1, 2, 3);\n}";
    assert_eq!(error(source), "t.toy:5:12: error: function `f` takes 2 arguments but 3 were given");
    assert_eq!(error(&in_main("    n = len();")), "t.toy:2:9: error: `len` takes 1 argument but 0 were given");
}

#[test]
fn unknown_field() {
    let source = "type P { x: int }\nfn main(n: int) -> int {\n    let p = new P { x: 1 };\n    return p.y;\n}";
    assert_eq!(error(source), "t.toy:4:14: error: record `P` has no field `y`");
}

#[test]
fn missing_field_in_new() {
    let source =
        "type P { x: int, y: int, z: P }\nfn main(n: int) -> int {\n    let p = new P { y: 2 };\n    return 0;\n}";
    assert_eq!(error(source), "t.toy:3:17: error: missing fields `x`, `z` in `new P`");
}

#[test]
fn assignment_to_undeclared_variable() {
    assert_eq!(error(&in_main("    total = 1;")), "t.toy:2:5: error: assignment to undeclared variable `total`");
}

#[test]
fn non_bool_condition() {
    assert_eq!(error(&in_main("    while n {\n    }")), "t.toy:2:11: error: condition must be `bool`, found `int`");
    assert_eq!(error(&in_main("    if nil {\n    }")), "t.toy:2:8: error: condition must be `bool`, found `nil`");
}

#[test]
fn return_type_mismatch() {
    let source = "fn f() -> int {\n    return true;\n}\nfn main(n: int) -> int {\n    return f();\n}";
    assert_eq!(error(source), "t.toy:2:12: error: return type mismatch: function `f` returns `int`, found `bool`");
}

#[test]
fn missing_return() {
    let source = "fn f(a: int) -> int {\n    if a > 0 {\n        return 1;\n    }\n}\nfn main(n: int) -> int {\n    return f(n);\n}";
    assert_eq!(error(source), "t.toy:5:1: error: missing `return` at the end of function `f`");
}

#[test]
fn unterminated_comment() {
    assert_eq!(
        error("fn main(n: int) -> int {\n    return 0; /* never\n closed\n}"),
        "t.toy:2:15: error: unterminated block comment"
    );
}

#[test]
fn unterminated_string() {
    assert_eq!(error(&in_main("    print(\"abc);")), "t.toy:2:11: error: unterminated string literal");
}

#[test]
fn unexpected_token() {
    assert_eq!(error(&in_main("    let x = 1 +;")), "t.toy:2:16: error: expected an expression, found `;`");
    assert_eq!(error(&in_main("    let x = 1\n    let y = 2;")), "t.toy:3:5: error: expected `;`, found `let`");
    assert_eq!(error("fn main(n: int) -> int {\n    return 0;\n"), "t.toy:3:1: error: expected `}`, found end of file");
    assert_eq!(error("return 1;"), "t.toy:1:1: error: expected `fn`, `type` or `let`, found `return`");
}

#[test]
fn missing_or_wrong_entry_point() {
    assert_eq!(error(""), "t.toy:1:1: error: missing entry point `fn main(n: int) -> int`");
    assert_eq!(
        error("fn main() {\n}"),
        "t.toy:1:4: error: entry point `main` must be declared `fn main(n: int) -> int`"
    );
}

#[test]
fn other_type_errors_have_exact_positions() {
    let cases = [
        ("    let x = nil;", "t.toy:2:13: error: cannot infer the type of `nil` here"),
        ("    let n = 1;", "t.toy:2:9: error: variable `n` is already declared in this scope"),
        ("    n = g(1);", "t.toy:2:9: error: unknown function `g`"),
        ("    n = n.f;", "t.toy:2:11: error: type `int` has no fields"),
        ("    n = n[0];", "t.toy:2:9: error: cannot index a value of type `int`"),
        ("    n = len(n);", "t.toy:2:13: error: `len` expects an array, found `int`"),
        ("    n = int(n);", "t.toy:2:13: error: `int` converts a `float`, found `int`"),
        ("    n = -true;", "t.toy:2:9: error: operator `-` cannot be applied to `bool`"),
        ("    n = 1 && true;", "t.toy:2:9: error: operator `&&` expects `bool`, found `int`"),
        ("    n = true < false;", "t.toy:2:14: error: operator `<` cannot be applied to `bool`"),
        ("    print(nil == nil);", "t.toy:2:15: error: cannot compare `nil` with `nil`"),
        ("    print(n == nil);", "t.toy:2:16: error: `nil` is not a value of type `int`"),
        ("    print(new [int](1));", "t.toy:2:11: error: cannot print a value of type `[int]`"),
        ("    n + 1;", "t.toy:2:5: error: only calls of functions can be used as statements"),
        (
            "    1 = n;",
            "t.toy:2:5: error: cannot assign to this expression; expected a variable, field or array element",
        ),
        ("    let a: Foo = nil;", "t.toy:2:12: error: unknown type `Foo`"),
        ("    return 1;\n    n = 2;", "t.toy:3:5: error: unreachable statement"),
        (
            "    print(\"x\" );\n    let s = \"y\";",
            "t.toy:3:13: error: string literals are only allowed as arguments of `print`",
        ),
        ("    n = 9223372036854775808;", "t.toy:2:9: error: integer literal is out of range for `int`"),
        ("    n = 1 < 2 < 3;", "t.toy:2:15: error: comparison operators cannot be chained; add parentheses"),
    ];
    for (body, expected) in cases {
        assert_eq!(error(&in_main(body)), expected, "{body}");
    }
}

#[test]
fn declaration_errors() {
    let cases = [
        ("type A {}\ntype A {}\n", "t.toy:2:6: error: record `A` is declared twice"),
        ("type A { x: int, x: int }\n", "t.toy:1:18: error: field `x` is declared twice in `A`"),
        ("fn f() {\n}\nfn f() {\n}\n", "t.toy:3:4: error: function `f` is declared twice"),
        ("fn f() -> int {\n    return;\n}\n", "t.toy:2:5: error: `return` needs a value: function `f` returns `int`"),
        ("fn f() {\n    return 1;\n}\n", "t.toy:2:12: error: function `f` returns no value, but `return` has one"),
        ("fn f() {\n}\nfn g() -> int {\n    return f();\n}\n", "t.toy:4:12: error: function `f` returns no value"),
        ("fn poll() {\n}\n", "t.toy:1:4: error: the name `poll` is reserved: the runtime defines `toy_poll`"),
        (
            "fn print_int(x: int) {\n}\n",
            "t.toy:1:4: error: the name `print_int` is reserved: the runtime defines `toy_print_int`",
        ),
    ];
    for (items, expected) in cases {
        let source = format!("{items}fn main(n: int) -> int {{\n    return 0;\n}}\n");
        assert_eq!(error(&source), expected, "{items}");
    }
}

#[test]
fn every_type_error_is_reported_once() {
    let source = in_main("    let a = undefined;\n    let b = a + 1;\n    n = c;\n    let d: int = true;");
    assert_eq!(
        errors(&source),
        [
            "t.toy:2:13: error: unknown variable `undefined`",
            "t.toy:4:9: error: unknown variable `c`",
            "t.toy:5:18: error: type mismatch: expected `int`, found `bool`",
        ]
    );
}

#[test]
fn rendering_shows_the_line_and_a_caret() {
    let source = in_main("\tlet x: bool = 1;");
    let diagnostics = cfree_toy::check("t.toy", &source).unwrap_err();
    assert_eq!(
        cfree_toy::diag::render_all(&diagnostics, &source),
        "t.toy:2:16: error: type mismatch: expected `bool`, found `int`\n\tlet x: bool = 1;\n\t              ^\n"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(error(&in_main("    print(\"\u{e9}\u{e9}\", zz);")), "t.toy:2:17: error: unknown variable `zz`");
}
