//! Acceptance tests of the cloud layer: `openstack_client`, the OpenStack client against the
//! real local Keystone and Glance, with faults injected by the proxy. They run when
//! `FLATCAR_KUBE_ACCEPTANCE=1` (scripts/test.sh sets it; `flatcar_testkit::acceptance`).

use flatcar_testkit as support;

mod openstack_client;
