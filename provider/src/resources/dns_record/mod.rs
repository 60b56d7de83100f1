//! `flatcar_dns_record`: a Designate recordset (A, AAAA or CNAME) in a zone given by name or
//! ID. Create and update wait until Designate reports it `ACTIVE` (its name servers have it);
//! delete waits until it is gone. Records, TTL and description change in place; a record
//! changed or deleted by hand is put back by the next apply. Import as `ZONE_ID/RECORDSET_ID`.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use flatcar_cloud::openstack::designate::{
    absolute, within, Designate, DnsError, RecordSet, RecordSetSpec,
};
use flatcar_cloud::openstack::CloudError;
use serde::{Deserialize, Serialize};
use tfplugin::framework::timeouts::{self, Operation};
use tfplugin::framework::{Attr, StringEnum, Timeouts, TypedResource};
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Validator};

use crate::errors;
use crate::state::ProviderState;

/// Designate answers within seconds; the limits cover a slow worker or pool.
const WAIT: Duration = Duration::from_secs(10 * 60);
const CREATE: Operation = Operation::new("create", WAIT);
const UPDATE: Operation = Operation::new("update", WAIT);
const DELETE: Operation = Operation::new("delete", WAIT);

tfplugin::string_enum!(
    /// The record types this resource manages.
    pub enum RecordType {
        #[default]
        A = "A",
        Aaaa = "AAAA",
        Cname = "CNAME",
    }
);

/// The schema's default description, and the code's fallback.
const DESCRIPTION: &str = "";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecordModel {
    pub zone: Attr<String>,
    pub name: Attr<String>,
    #[serde(rename = "type")]
    pub kind: Attr<RecordType>,
    pub records: Attr<Vec<String>>,
    pub ttl: Attr<i64>,
    pub description: Attr<String>,
    pub id: Attr<String>,
    pub zone_id: Attr<String>,
    pub fqdn: Attr<String>,
    pub timeouts: Attr<Timeouts>,
}

pub fn schema() -> Schema {
    let s = Type::String;
    let block = Block {
        description: "A DNS record in a Designate zone (on Jetstream2, the allocation's `<allocation>.projects.jetstream-cloud.org.`), e.g. the cluster's API or hub name pointing at a `flatcar_floating_ip`. Create and update wait until Designate reports the recordset `ACTIVE`, i.e. its name servers answer it; delete waits until it is gone. Records, TTL and description change in place; changed or deleted by hand, the next apply puts it back. Import as `ZONE_ID/RECORDSET_ID`.".into(),
        attributes: vec![
            Attribute::required("zone", s.clone(), "The zone, by name (`myalloc.projects.jetstream-cloud.org.`) or ID.").requires_replace(),
            Attribute::required("name", s.clone(), "The full name, in the zone, e.g. `hub.myalloc.projects.jetstream-cloud.org.` (the trailing dot is optional).").requires_replace(),
            Attribute::optional("type", s.clone(), &format!("Record type. Default `{}`.", RecordType::default())).default(RecordType::default().as_str()).requires_replace().validate(Validator::one_of::<RecordType>()),
            Attribute::required("records", Type::set(s.clone()), "The addresses (A, AAAA) or the one target name (CNAME). Change in place.").validate(Validator::NonEmpty),
            Attribute::optional("ttl", Type::Number, "Seconds resolvers may cache the answer; null for the zone's default. Changes in place.").validate(Validator::Between(1, i64::from(i32::MAX))),
            Attribute::optional("description", s.clone(), "Free text. Changes in place.").default(DESCRIPTION),
            Attribute::computed("id", s.clone(), "Recordset ID.").use_state_for_unknown(),
            Attribute::computed("zone_id", s.clone(), "The zone's ID.").use_state_for_unknown(),
            Attribute::computed("fqdn", s, "The absolute name, with the trailing dot.").use_state_for_unknown(),
        ],
        blocks: vec![timeouts::block(&[CREATE, UPDATE, DELETE])],
        ..Block::default()
    };
    Schema::new(0, block)
}

fn spec(m: &DnsRecordModel) -> RecordSetSpec {
    let mut records = m.records.items().to_vec();
    records.sort();
    RecordSetSpec {
        name: absolute(m.name.str_or("")),
        kind: m.kind.known_or_default().to_string(),
        records,
        ttl: m.ttl.known().copied(),
        description: m.description.str_or(DESCRIPTION).to_string(),
    }
}

/// `m` with what Designate says, keeping the configuration's spelling of equal names.
fn with_set(mut m: DnsRecordModel, set: &RecordSet) -> DnsRecordModel {
    if absolute(m.name.str_or("")) != absolute(&set.name) {
        m.name = set.name.clone().into();
    }
    m.fqdn = absolute(&set.name).into();
    // A type Designate reports that this resource does not manage is null: drift.
    m.kind = set.kind.parse().ok().into();
    let mut records = set.records.clone();
    records.sort();
    m.records = Attr::Known(records);
    m.ttl = set.ttl.into();
    m.description = set.description.clone().unwrap_or_default().into();
    m.id = set.id.clone().into();
    m.zone_id = set.zone_id.clone().into();
    m
}

fn diagnostics(e: DnsError, what: &str) -> Diagnostics {
    match e {
        DnsError::NoZone(zone) => Diagnostic::error(
            "No such DNS zone",
            format!("Designate has no zone {zone:?} in this project. `openstack zone list` shows the project's zones (on Jetstream2 each allocation has `<allocation>.projects.jetstream-cloud.org.`)."),
        )
        .at(AttributePath::root("zone"))
        .into(),
        DnsError::Cloud(CloudError::Api { status: 400, ref message, .. })
            if message.contains("not contained") || message.contains("location") =>
        {
            Diagnostic::error(
                "The name is outside the zone",
                format!("Designate refused the name: {message}. Write a name that ends with the zone's name."),
            )
            .at(AttributePath::root("name"))
            .into()
        }
        DnsError::Cloud(CloudError::Api { status: 413, ref message, .. }) => Diagnostic::error(
            "DNS quota exceeded",
            format!("Designate refused another recordset: {message}. The project's recordset quota is used up: delete unused records (`openstack recordset list ZONE`) or ask the cloud's support for a larger quota."),
        )
        .into(),
        DnsError::Cloud(CloudError::Api { status: 409, ref message, .. }) => Diagnostic::error(
            "The record exists already",
            format!("Designate already has this name and type: {message}. Import it (`terraform import ADDRESS ZONE_ID/RECORDSET_ID`) or delete it first."),
        )
        .at(AttributePath::root("name"))
        .into(),
        DnsError::Cloud(c) => errors::cloud(&c, what).into(),
        other => Diagnostic::error(what, format!("{other}.")).into(),
    }
}

pub struct DnsRecordResource {
    pub state: Arc<ProviderState>,
}

impl DnsRecordResource {
    async fn zone_id(&self, d: &Designate<'_>, m: &DnsRecordModel) -> Result<String, Diagnostics> {
        if let Some(id) = m.zone_id.as_str() {
            return Ok(id.to_string());
        }
        let zone = d
            .zone(m.zone.str_or(""))
            .await
            .map_err(|e| diagnostics(e, "Cannot look up the zone"))?;
        if !within(m.name.str_or(""), &zone.name) {
            return Err(Diagnostic::error(
                "The name is outside the zone",
                format!(
                    "{} is not in zone {}. Write a name that ends with `.{}`.",
                    absolute(m.name.str_or("")),
                    zone.name,
                    zone.name
                ),
            )
            .at(AttributePath::root("name"))
            .into());
        }
        Ok(zone.id)
    }
}

#[async_trait]
impl TypedResource for DnsRecordResource {
    type Model = DnsRecordModel;

    fn type_name(&self) -> &'static str {
        "flatcar_dns_record"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, c: DnsRecordModel) -> Diagnostics {
        let mut diags = Diagnostics::default();
        if let (Some(name), Some(zone)) = (c.name.known(), c.zone.known()) {
            // A zone given by name: the name must be in it (by ID: checked at apply).
            if zone.contains('.') && !within(name, zone) {
                diags.push(
                    Diagnostic::error(
                        "The name is outside the zone",
                        format!(
                            "{} is not in zone {}. Write a name that ends with `.{}`.",
                            absolute(name),
                            absolute(zone),
                            absolute(zone)
                        ),
                    )
                    .at(AttributePath::root("name")),
                );
            }
        }
        // A null type is the schema's default.
        let kind = (!c.kind.is_unknown()).then(|| c.kind.known_or_default());
        if let (Some(kind), Attr::Known(records)) = (kind, &c.records) {
            let bad: Vec<&String> = records
                .iter()
                .filter(|r| match kind {
                    RecordType::A => r.parse::<Ipv4Addr>().is_err(),
                    RecordType::Aaaa => r.parse::<Ipv6Addr>().is_err(),
                    RecordType::Cname => r.is_empty() || r.contains(' '),
                })
                .collect();
            if !bad.is_empty() {
                diags.push(
                    Diagnostic::error(
                        "Invalid records",
                        format!("{bad:?} are not valid {kind} records (A: IPv4 addresses, AAAA: IPv6 addresses, CNAME: one name)."),
                    )
                    .at(AttributePath::root("records")),
                );
            }
            if kind == RecordType::Cname && records.len() > 1 {
                diags.push(
                    Diagnostic::error(
                        "Invalid records",
                        "A CNAME has exactly one target: give one record.",
                    )
                    .at(AttributePath::root("records")),
                );
            }
        }
        diags
    }

    async fn create(&self, planned: DnsRecordModel) -> Result<DnsRecordModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let d = Designate::new(&cloud);
        let zone_id = self.zone_id(&d, &planned).await?;
        let set = d
            .create(&zone_id, &spec(&planned))
            .await
            .map_err(|e| diagnostics(e, "Cannot create the DNS record"))?;
        let limit = timeouts::limit(&planned.timeouts, CREATE);
        match d
            .wait_active(&zone_id, &set.id, limit, &self.state.stop)
            .await
        {
            Ok(active) => Ok(with_set(planned, &active)),
            Err(e) => {
                // Nothing may be left behind.
                let _ = d.delete(&zone_id, &set.id, limit).await;
                Err(diagnostics(e, "The DNS record did not become active"))
            }
        }
    }

    async fn read(&self, state: DnsRecordModel) -> Result<Option<DnsRecordModel>, Diagnostics> {
        let (Some(zone_id), Some(id)) = (state.zone_id.known().cloned(), state.id.known().cloned())
        else {
            return Ok(None);
        };
        let cloud = self.state.cloud().await?;
        match Designate::new(&cloud)
            .get(&zone_id, &id)
            .await
            .map_err(|e| diagnostics(e, "Cannot read the DNS record"))?
        {
            Some(set) => Ok(Some(with_set(state, &set))),
            None => {
                tracing::warn!(%id, "DNS record is gone; removing it from state");
                Ok(None)
            }
        }
    }

    async fn update(
        &self,
        prior: DnsRecordModel,
        planned: DnsRecordModel,
    ) -> Result<DnsRecordModel, Diagnostics> {
        let cloud = self.state.cloud().await?;
        let d = Designate::new(&cloud);
        let (zone_id, id) = (prior.zone_id.str_or(""), prior.id.str_or(""));
        d.update(zone_id, id, &spec(&planned))
            .await
            .map_err(|e| diagnostics(e, "Cannot change the DNS record"))?;
        let limit = timeouts::limit(&planned.timeouts, UPDATE);
        let active = d
            .wait_active(zone_id, id, limit, &self.state.stop)
            .await
            .map_err(|e| diagnostics(e, "The DNS record did not become active"))?;
        Ok(with_set(planned, &active))
    }

    async fn delete(&self, prior: DnsRecordModel) -> Result<(), Diagnostics> {
        let (Some(zone_id), Some(id)) = (prior.zone_id.as_str(), prior.id.as_str()) else {
            return Ok(());
        };
        let cloud = self.state.cloud().await?;
        let limit = timeouts::limit(&prior.timeouts, DELETE);
        Designate::new(&cloud)
            .delete(zone_id, id, limit)
            .await
            .map_err(|e| diagnostics(e, "Cannot delete the DNS record"))
    }

    async fn import(&self, id: &str) -> Result<DnsRecordModel, Diagnostics> {
        let Some((zone_id, set_id)) = id.split_once('/') else {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!("{id:?} is not ZONE_ID/RECORDSET_ID (`openstack recordset list ZONE` shows both)."),
            )
            .into());
        };
        let cloud = self.state.cloud().await?;
        let set = Designate::new(&cloud)
            .get(zone_id, set_id)
            .await
            .map_err(|e| diagnostics(e, "Cannot read the DNS record"))?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "No such DNS record",
                    format!("Designate has no recordset {set_id} in zone {zone_id}."),
                ))
            })?;
        let model = DnsRecordModel {
            zone: if set.zone_name.is_empty() {
                zone_id.to_string()
            } else {
                set.zone_name.clone()
            }
            .into(),
            ..DnsRecordModel::default()
        };
        Ok(with_set(model, &set))
    }
}
