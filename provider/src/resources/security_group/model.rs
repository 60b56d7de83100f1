//! The attributes of `flatcar_security_group`: its schema (with plan behaviours declared), the
//! typed model that mirrors it, the conversions to and from the cloud layer's rule form, and
//! the plan-time checks of a rule.

use std::net::IpAddr;
use std::time::Duration;

use flatcar_cloud::openstack::security_group::{GroupSpec, GroupState, Remote, RuleSpec};
use serde::{Deserialize, Serialize};
use tfplugin::framework::timeouts::{self, Operation};
use tfplugin::framework::{Attr, StringEnum, Timeouts};
use tfplugin::{Attribute, Block, NestedBlock, Nesting, Schema, Type, Validator};

pub const DELETE: Operation = Operation::new("delete", Duration::from_secs(5 * 60));

tfplugin::string_enum!(
    /// Which traffic a rule allows.
    pub enum Direction {
        #[default]
        Ingress = "ingress",
        Egress = "egress",
    }
);

tfplugin::string_enum!(
    /// The IP version of a rule.
    pub enum Ethertype {
        #[default]
        IPv4 = "IPv4",
        IPv6 = "IPv6",
    }
);

/// Defaults the schema declares and the code falls back to.
pub const PROTOCOL: &str = "any";
pub const MEMBERS: bool = false;
pub const ALLOW_ALL_EGRESS: bool = true;
pub const DESCRIPTION: &str = "";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleModel {
    pub direction: Attr<Direction>,
    pub ethertype: Attr<Ethertype>,
    pub protocol: Attr<String>,
    pub port_range_min: Attr<i64>,
    pub port_range_max: Attr<i64>,
    pub remote_ip_prefix: Attr<String>,
    pub remote_group_id: Attr<String>,
    #[serde(rename = "self")]
    pub members: Attr<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupModel {
    pub name: Attr<String>,
    pub description: Attr<String>,
    pub allow_all_egress: Attr<bool>,
    pub id: Attr<String>,
    pub rule: Attr<Vec<RuleModel>>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let rule = Block {
        description: "One rule; repeat the block. Exactly one of `remote_ip_prefix`, `remote_group_id` or `self` names the other side, or none for anywhere.".into(),
        attributes: vec![
            Attribute::optional("direction", s.clone(), &format!("Default `{}`.", Direction::default())).default(Direction::default().as_str()).validate(Validator::one_of::<Direction>()),
            Attribute::optional("ethertype", s.clone(), &format!("Default `{}`; must match `remote_ip_prefix`.", Ethertype::default())).default(Ethertype::default().as_str()).validate(Validator::one_of::<Ethertype>()),
            Attribute::optional("protocol", s.clone(), &format!("Default `{PROTOCOL}`.")).default(PROTOCOL).validate(Validator::ParsesAs("`any`, `tcp`, `udp`, `icmp`, or an IP protocol number `0`-`255`", check_protocol)),
            Attribute::optional("port_range_min", Type::Number, "First port (`tcp`/`udp` only); set with `port_range_max`.").validate(Validator::PORT),
            Attribute::optional("port_range_max", Type::Number, "Last port (`tcp`/`udp` only); the same as `port_range_min` for one port.").validate(Validator::PORT),
            Attribute::optional("remote_ip_prefix", s.clone(), "CIDR of the other side, e.g. `203.0.113.0/24` or `0.0.0.0/0`.").validate(Validator::ParsesAs("a CIDR whose host bits are zero", check_cidr)),
            Attribute::optional("remote_group_id", s.clone(), "Members of another security group (its ID)."),
            Attribute::optional("self", Type::Bool, &format!("Members of this group, e.g. all traffic between the nodes of a cluster. Default `{MEMBERS}`.")).default(MEMBERS),
        ],
        ..Block::default()
    };
    let block = Block {
        description: "A Neutron security group whose rules are managed exclusively: the group holds exactly the declared `rule` blocks (plus allow-all egress unless `allow_all_egress = false`), so a rule added or deleted outside Terraform shows as drift and is put back by the next apply. Name, description and rules change in place. Import by ID.".into(),
        attributes: vec![
            Attribute::required("name", s.clone(), "Group name. Changes in place.").validate(Validator::NonEmpty),
            Attribute::optional("description", s.clone(), "Free text. Changes in place.").default(DESCRIPTION),
            Attribute::optional("allow_all_egress", Type::Bool, &format!("Allow all outgoing IPv4 and IPv6 traffic, as Neutron does for a new group. Default `{ALLOW_ALL_EGRESS}`.")).default(ALLOW_ALL_EGRESS),
            Attribute::computed("id", s, "Security group ID; give it to `flatcar_instance.security_groups`.").use_state_for_unknown(),
        ],
        blocks: vec![
            NestedBlock {
                nesting: Nesting::Set,
                ..NestedBlock::list("rule", rule, 0)
            },
            timeouts::block(&[DELETE]),
        ],
        ..Block::default()
    };
    Schema::new(0, block)
}

/// The cloud layer's form of a (validated) rule.
pub fn rule_spec(rule: &RuleModel) -> RuleSpec {
    let text = |a: &Attr<String>| a.as_str().map(str::to_string);
    let remote = match (text(&rule.remote_ip_prefix), text(&rule.remote_group_id)) {
        (Some(cidr), _) => Remote::Cidr(cidr),
        (None, Some(group)) => Remote::Group(group),
        (None, None) if rule.members.known_or(MEMBERS) => Remote::Members,
        (None, None) => Remote::Any,
    };
    let port = |a: &Attr<i64>| a.known().and_then(|p| u16::try_from(*p).ok());
    RuleSpec {
        direction: rule.direction.known_or_default().to_string(),
        ethertype: rule.ethertype.known_or_default().to_string(),
        protocol: text(&rule.protocol).filter(|p| p != PROTOCOL),
        port_range_min: port(&rule.port_range_min),
        port_range_max: port(&rule.port_range_max),
        remote,
    }
}

/// The model's form of a rule as the cloud reports it (defaults written out; a direction or
/// ethertype Neutron never reports would be null, i.e. drift).
pub fn rule_model(rule: &RuleSpec) -> RuleModel {
    let (cidr, group, members) = match &rule.remote {
        Remote::Any => (None, None, false),
        Remote::Cidr(c) => (Some(c.clone()), None, false),
        Remote::Group(g) => (None, Some(g.clone()), false),
        Remote::Members => (None, None, true),
    };
    RuleModel {
        direction: rule.direction.parse().ok().into(),
        ethertype: rule.ethertype.parse().ok().into(),
        protocol: rule
            .protocol
            .clone()
            .unwrap_or_else(|| PROTOCOL.into())
            .into(),
        port_range_min: rule.port_range_min.map(i64::from).into(),
        port_range_max: rule.port_range_max.map(i64::from).into(),
        remote_ip_prefix: cidr.into(),
        remote_group_id: group.into(),
        members: Attr::Known(members),
    }
}

pub fn group_spec(m: &SecurityGroupModel) -> GroupSpec {
    GroupSpec {
        name: m.name.str_or("").to_string(),
        description: m.description.str_or(DESCRIPTION).to_string(),
        rules: m.rule.items().iter().map(rule_spec).collect(),
        allow_all_egress: m.allow_all_egress.known_or(ALLOW_ALL_EGRESS),
    }
}

/// `model` with what Neutron says of the group.
pub fn with_group(mut model: SecurityGroupModel, group: &GroupState) -> SecurityGroupModel {
    model.id = group.id.clone().into();
    model.name = group.name.clone().into();
    model.description = group.description.clone().into();
    model.allow_all_egress = Attr::Known(group.allow_all_egress);
    model.rule = Attr::Known(group.rules.iter().map(rule_model).collect());
    model
}

/// A rule's problem: the attribute of the rule to blame (none: the rule as a whole) and
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub attribute: Option<&'static str>,
    pub reason: String,
}

fn problem(attribute: Option<&'static str>, reason: impl Into<String>) -> Result<(), RuleProblem> {
    Err(RuleProblem {
        attribute,
        reason: reason.into(),
    })
}

/// What the rule's attributes say together, beyond each one's declared validators; values
/// still unknown are not judged.
pub fn check_rule(rule: &RuleModel, allow_all_egress: bool) -> Result<(), RuleProblem> {
    let protocol = rule.protocol.str_or(PROTOCOL);
    let (min, max) = (rule.port_range_min.known(), rule.port_range_max.known());
    if min.is_some() || max.is_some() {
        if !rule.protocol.is_unknown() && !["tcp", "udp"].contains(&protocol) {
            return problem(
                Some("port_range_min"),
                format!("ports apply to tcp and udp only, not to protocol {protocol:?}: remove the ports or set protocol = \"tcp\" or \"udp\"."),
            );
        }
        match (min, max) {
            (Some(lo), Some(hi)) if lo > hi => {
                return problem(
                    Some("port_range_max"),
                    "ports must be 1-65535 with port_range_min <= port_range_max.",
                )
            }
            (Some(_), Some(_)) => {}
            (Some(_), None) if !rule.port_range_max.is_unknown() => {
                return problem(
                    Some("port_range_max"),
                    "set both port_range_min and port_range_max (the same number for one port).",
                )
            }
            (None, Some(_)) if !rule.port_range_min.is_unknown() => {
                return problem(
                    Some("port_range_min"),
                    "set both port_range_min and port_range_max (the same number for one port).",
                )
            }
            _ => {}
        }
    }
    let members = rule.members.known_or(MEMBERS);
    let remotes = [
        rule.remote_ip_prefix.known().is_some(),
        rule.remote_group_id.known().is_some(),
        members,
    ];
    if remotes.iter().filter(|r| **r).count() > 1 {
        return problem(
            None,
            "give at most one of remote_ip_prefix, remote_group_id and self.",
        );
    }
    // A null ethertype is the schema's default.
    let ethertype = (!rule.ethertype.is_unknown()).then(|| rule.ethertype.known_or_default());
    if let (Some(cidr), Some(ethertype)) = (rule.remote_ip_prefix.as_str(), ethertype) {
        let family = if cidr.contains(':') {
            Ethertype::IPv6
        } else {
            Ethertype::IPv4
        };
        if family != ethertype {
            return problem(Some("remote_ip_prefix"), format!("{cidr:?} is an {family} prefix but the rule's ethertype is {ethertype}; set ethertype = \"{family}\"."));
        }
    }
    let to_anywhere = rule.remote_ip_prefix.is_null() && rule.remote_group_id.is_null() && !members;
    let any_egress = rule.direction.known() == Some(&Direction::Egress)
        && !rule.protocol.is_unknown()
        && protocol == PROTOCOL
        && min.is_none()
        && to_anywhere;
    if allow_all_egress && any_egress {
        return problem(Some("direction"), "this rule is already there through allow_all_egress = true; remove it, or set allow_all_egress = false and declare egress yourself.");
    }
    Ok(())
}

/// `any`, a protocol name Neutron knows in lower case, or an IP protocol number.
fn check_protocol(protocol: &str) -> Result<(), String> {
    if protocol.parse::<u8>().is_ok() || [PROTOCOL, "tcp", "udp", "icmp"].contains(&protocol) {
        return Ok(());
    }
    Err(format!("protocol {protocol:?} is not one of any, tcp, udp, icmp or a protocol number 0-255 (lower case)."))
}

/// A CIDR whose host bits are zero (Neutron would otherwise store another value than the one
/// configured). Its family is checked against the rule's ethertype by [`check_rule`].
pub fn check_cidr(cidr: &str) -> Result<(), String> {
    let bad = || format!("{cidr:?} is not a CIDR such as \"203.0.113.0/24\" or \"2001:db8::/32\".");
    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (bits, width) = match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    if len > width {
        return Err(bad());
    }
    // `::/0` has 128 host bits: a shift by the full width of u128 would overflow.
    let host_mask = 1u128.checked_shl(width - len).unwrap_or(0).wrapping_sub(1);
    if bits & host_mask != 0 {
        let network = bits & !host_mask;
        let shown = match addr {
            IpAddr::V4(_) => std::net::Ipv4Addr::from(network as u32).to_string(),
            IpAddr::V6(_) => std::net::Ipv6Addr::from(network).to_string(),
        };
        return Err(format!(
            "{cidr:?} has host bits set; write the network address {shown}/{len}."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_length_is_checked_without_overflow() {
        for cidr in ["::/0", "0.0.0.0/0", "2001:db8::1/128", "203.0.113.7/32"] {
            assert_eq!(check_cidr(cidr), Ok(()), "{cidr}");
        }
        assert!(check_cidr("::1/0").is_err_and(|e| e.contains("::/0")));
        assert!(check_cidr("10.0.0.1/0").is_err_and(|e| e.contains("0.0.0.0/0")));
    }

    #[test]
    fn the_model_has_exactly_the_schema_attributes() {
        tfplugin::framework::check_model::<SecurityGroupModel>(&schema()).unwrap();
    }

    #[test]
    fn cidrs_must_be_network_addresses_of_the_rule_family() {
        assert_eq!(check_cidr("10.0.0.0/8"), Ok(()));
        assert_eq!(check_cidr("2001:db8::/32"), Ok(()));
        assert!(check_cidr("10.0.0.5/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
        assert!(check_cidr("10.0.0.0/33").is_err());
        assert!(check_cidr("10.0.0.0").is_err());
        let v6_in_v4 = RuleModel {
            remote_ip_prefix: "::/0".into(),
            ..RuleModel::default()
        };
        let problem = check_rule(&v6_in_v4, true).unwrap_err();
        assert_eq!(problem.attribute, Some("remote_ip_prefix"));
        assert!(problem.reason.contains("ethertype = \"IPv6\""));
    }

    #[test]
    fn rules_are_checked_before_the_cloud_sees_them() {
        let tcp = |lo: i64, hi: i64| RuleModel {
            protocol: "tcp".into(),
            port_range_min: Attr::Known(lo),
            port_range_max: Attr::Known(hi),
            ..RuleModel::default()
        };
        assert_eq!(check_rule(&tcp(22, 22), true), Ok(()));
        assert!(check_rule(&tcp(443, 80), true).is_err());
        let icmp_port = RuleModel {
            protocol: "icmp".into(),
            ..tcp(1, 1)
        };
        assert!(check_rule(&icmp_port, true)
            .unwrap_err()
            .reason
            .contains("tcp and udp only"));
        let two_remotes = RuleModel {
            remote_ip_prefix: "10.0.0.0/8".into(),
            members: Attr::Known(true),
            ..RuleModel::default()
        };
        assert!(check_rule(&two_remotes, true)
            .unwrap_err()
            .reason
            .contains("at most one"));
        let egress = RuleModel {
            direction: Attr::Known(Direction::Egress),
            ..RuleModel::default()
        };
        assert!(check_rule(&egress, true)
            .unwrap_err()
            .reason
            .contains("allow_all_egress"));
        assert_eq!(check_rule(&egress, false), Ok(()));
        let unknown = RuleModel {
            protocol: Attr::Unknown,
            direction: Attr::Unknown,
            ..RuleModel::default()
        };
        assert_eq!(check_rule(&unknown, true), Ok(()));
    }

    #[test]
    fn a_rule_survives_the_round_trip_through_the_cloud_form() {
        let rule = RuleModel {
            direction: Attr::Known(Direction::Ingress),
            ethertype: Attr::Known(Ethertype::IPv4),
            protocol: "tcp".into(),
            port_range_min: Attr::Known(6443),
            port_range_max: Attr::Known(6443),
            remote_ip_prefix: "198.51.100.0/24".into(),
            remote_group_id: Attr::Null,
            members: Attr::Known(false),
        };
        assert_eq!(rule_model(&rule_spec(&rule)), rule);
    }
}
