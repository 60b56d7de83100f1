//! go-plugin's side services: the controller whose Shutdown stops the server, the stdio
//! stream (we print nothing there: logs go to stderr), and a broker that accepts its stream.

use std::pin::Pin;

use futures::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::wire::goplugin as pb;

/// Signals every part of the server that it is time to stop.
#[derive(Clone)]
pub struct ShutdownSignal(pub watch::Sender<bool>);

impl Default for ShutdownSignal {
    fn default() -> ShutdownSignal {
        ShutdownSignal(watch::channel(false).0)
    }
}

impl ShutdownSignal {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

pub struct Controller(pub ShutdownSignal);

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::debug!("shutdown requested by terraform");
        self.0.trigger();
        Ok(Response::new(pb::Empty {}))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A stream that yields nothing and ends when the server stops.
fn until_shutdown<T: Send + 'static>(signal: ShutdownSignal) -> BoxStream<T> {
    Box::pin(
        futures::stream::once(async move { signal.wait().await }).filter_map(|_| async { None }),
    )
}

use futures::StreamExt;

pub struct Stdio(pub ShutdownSignal);

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<pb::StdioData>;
    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(until_shutdown(self.0.clone())))
    }
}

pub struct Broker(pub ShutdownSignal);

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<pb::ConnInfo>;
    async fn start_stream(
        &self,
        _: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        // Terraform providers never open extra connections through the broker.
        Ok(Response::new(until_shutdown(self.0.clone())))
    }
}
