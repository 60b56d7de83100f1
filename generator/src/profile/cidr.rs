//! CIDRs of security-group rules as the profile writes them (`access.allowed_cidrs`): an IPv4
//! or IPv6 network address and a prefix length, with no host bits set, so what the profile says
//! is exactly what Neutron stores. It knows nothing of where a CIDR is used.

use std::fmt;
use std::net::IpAddr;

/// A network: address (host bits zero) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a text is not a [`Cidr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("`{text}` has no prefix length")]
    NoPrefix { text: String },
    #[error("`{text}` is not an IPv4 or IPv6 address followed by `/` and a prefix length")]
    Malformed { text: String },
    #[error("the prefix length of `{text}` is more than {max}")]
    PrefixTooLong { text: String, max: u8 },
    #[error("`{text}` has host bits set")]
    HostBits { text: String, network: Cidr },
}

impl CidrError {
    /// What to write instead.
    pub fn hint(&self) -> String {
        match self {
            CidrError::NoPrefix { text } => {
                let single = if text.contains(':') { 128 } else { 32 };
                format!("write `{text}/{single}` for this one address, or a network such as `203.0.113.0/24`")
            }
            CidrError::Malformed { .. } => {
                "write a CIDR such as `203.0.113.7/32`, `10.0.0.0/8` or `2001:db8::/32`".to_string()
            }
            CidrError::PrefixTooLong { max, .. } => {
                format!("use a prefix length from 0 to {max}")
            }
            CidrError::HostBits { text, network } => {
                let host = text.split('/').next().unwrap_or(text);
                let single = if network.is_ipv4() { 32 } else { 128 };
                format!("write the network `{network}`, or `{host}/{single}` for this one address")
            }
        }
    }
}

/// Parses `addr/prefix` and refuses host bits (`10.0.0.1/24`).
pub fn parse(text: &str) -> Result<Cidr, CidrError> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(match text.parse::<IpAddr>() {
            Ok(_) => CidrError::NoPrefix {
                text: text.to_string(),
            },
            Err(_) => CidrError::Malformed {
                text: text.to_string(),
            },
        });
    };
    let malformed = || CidrError::Malformed {
        text: text.to_string(),
    };
    let addr: IpAddr = addr.parse().map_err(|_| malformed())?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
        return Err(malformed());
    }
    let prefix: u8 = prefix.parse().map_err(|_| malformed())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(CidrError::PrefixTooLong {
            text: text.to_string(),
            max,
        });
    }
    let network = Cidr {
        addr: mask(addr, prefix),
        prefix,
    };
    if network.addr != addr {
        return Err(CidrError::HostBits {
            text: text.to_string(),
            network,
        });
    }
    Ok(network)
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & keep).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & keep).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_of_both_families() {
        assert_eq!(parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(
            parse("203.0.113.7/32").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert!(parse("2001:db8::/32").is_ok_and(|c| !c.is_ipv4()));
        assert!(parse("::/0").is_ok());
    }

    #[test]
    fn mistakes_are_named_with_a_fix() {
        let e = parse("203.0.113.7").unwrap_err();
        assert!(matches!(e, CidrError::NoPrefix { .. }));
        assert!(e.hint().contains("203.0.113.7/32"), "{}", e.hint());
        let e = parse("10.1.2.3/8").unwrap_err();
        assert!(e.hint().contains("`10.0.0.0/8`"), "{}", e.hint());
        assert!(e.hint().contains("`10.1.2.3/32`"), "{}", e.hint());
        assert!(matches!(
            parse("10.0.0.0/33"),
            Err(CidrError::PrefixTooLong { max: 32, .. })
        ));
        assert!(matches!(
            parse("2001:db8::/129"),
            Err(CidrError::PrefixTooLong { max: 128, .. })
        ));
        for bad in [
            "",
            "/24",
            "10.0.0/24",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x/1",
            "10.0.0.0/0008",
        ] {
            assert!(
                matches!(parse(bad), Err(CidrError::Malformed { .. })),
                "{bad}"
            );
        }
    }
}
