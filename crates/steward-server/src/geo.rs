//! Approximate location from a MaxMind-format (`.mmdb`) GeoIP database the
//! operator provides (GeoLite2 City or Country, DB-IP Lite, …). Without one,
//! locations are simply not shown.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Reader, geoip2};
use steward_core::ports::Locator;

/// A GeoIP database loaded in memory.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoIp {
    /// Opens a database file.
    pub fn open(path: &Path) -> Result<Self, String> {
        let reader = Reader::open_readfile(path)
            .map_err(|e| format!("GeoIP database {}: {e}", path.display()))?;
        Ok(Self { reader })
    }
}

impl Locator for GeoIp {
    fn locate(&self, ip: IpAddr) -> Option<String> {
        let found = self.reader.lookup(ip).ok()?;
        let city: geoip2::City = found.decode().ok()??;
        let country = city.country.names.english;
        match (city.city.names.english, country) {
            (Some(c), Some(k)) => Some(format!("{c}, {k}")),
            (None, Some(k)) => Some(k.to_owned()),
            (Some(c), None) => Some(c.to_owned()),
            (None, None) => None,
        }
    }
}
