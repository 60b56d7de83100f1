//! Generates gRPC *client* stubs from tfplugin's own .proto files for the conformance suite
//! (tests/support/plugin_client.rs), which plays OpenTofu's go-plugin client. Only the tests
//! include them (`OUT_DIR`); the provider's library and binary never do.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = "../proto/proto";
    let files = ["tfplugin6.proto", "goplugin.proto"].map(|f| format!("{dir}/{f}"));
    for file in &files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(&files, [dir])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
