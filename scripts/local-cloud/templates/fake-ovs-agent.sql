-- The fake Open vSwitch agent of the compute host, rendered by scripts/local-cloud/neutron.sh
-- (COMPUTE_HOST) and run on database neutron: ML2 binds ports only to hosts with a live agent.
INSERT INTO agents (id, agent_type, `binary`, topic, host, admin_state_up, created_at,
  started_at, heartbeat_timestamp, description, configurations, `load`, resources_synced)
VALUES (UUID(), 'Open vSwitch agent', 'neutron-openvswitch-agent', 'N/A', '@COMPUTE_HOST@', 1,
  UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), 'fake agent (local-cloud.sh)',
  '{"bridge_mappings": {"public": "br-ex"}, "tunnel_types": ["vxlan"], "integration_bridge": "br-int", "datapath_type": "system", "ovs_hybrid_plug": false, "l2_population": false, "tunneling_ip": "127.0.0.1", "devices": 0}',
  0, 1);
