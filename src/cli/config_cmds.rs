//! `drivers` and `dsns`: what the ini files declare.

use odbc_dm::config::{list_drivers, list_dsns, ConfigSource, DsnScope};

pub fn drivers() -> i32 {
    let src = ConfigSource::from_env();
    let list = list_drivers(&src);
    if list.is_empty() {
        eprintln!("no drivers in {}", src.odbcinst_ini.display());
    }
    for (name, attrs) in list {
        let driver = attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case("Driver")).map(|(_, v)| v.as_str()).unwrap_or("");
        println!("{name:<24} {driver}");
    }
    0
}

pub fn dsns() -> i32 {
    let src = ConfigSource::from_env();
    for (scope, label) in [(DsnScope::User, "user"), (DsnScope::System, "system")] {
        for (name, driver) in list_dsns(&src, scope) {
            println!("{name:<24} {label:<7} {driver}");
        }
    }
    0
}
