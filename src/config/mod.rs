//! Configuration: `odbc.ini` / `odbcinst.ini` and connection strings.
//!
//! Why in-house: the INI dialect unixODBC accepts is tiny but quirky (no inline
//! comments because values hold `;`, case-insensitive names, later keys win),
//! and general-purpose INI crates differ on exactly those points. Owning ~200
//! lines keeps behaviour predictable and dependency-free.
//!
//! Why unixODBC-compatible: users already have unixODBC files and
//! environment variables (`ODBCSYSINI`, `ODBCINSTINI`, `ODBCINI`) and Debian
//! driver packages register bare library names; resolving them the same way
//! lets odbc-dm be a drop-in replacement.
//!
//! * [`ini`]: the INI reader;
//! * [`paths`]: where the files are ([`ConfigSource`]);
//! * [`conn_str`]: connection-string parse/build and [`mask_passwords`];
//! * [`resolve`](mod@resolve): connection string → driver library + attributes.

pub mod conn_str;
pub mod ini;
pub mod paths;
pub mod resolve;

pub use conn_str::{build_connection_string, is_password_key, mask_passwords, parse_pairs, ConnectionString, MASK};
pub use ini::{IniFile, Section, MAX_INI_SIZE};
pub use paths::{ConfigSource, DEFAULT_SYSTEM_DIR};
pub use resolve::{
    check_driver_file, list_drivers, list_dsns, resolve, resolve_connection_string, resolve_driver_file, resolve_driver_file_in,
    resolve_dsn, resolve_with_driver_dir, ConfigError, DsnScope, ResolvedDriver, DEFAULT_DRIVER_DIR, DEFAULT_DSN, ODBC_SECTION,
};
