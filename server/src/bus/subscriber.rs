//! The subscribing side of the bus: one task per node owning the pub/sub connection. It keeps
//! the set of channels the node needs (reference-counted), probes its own subscription, and
//! when the connection is lost or silent connects again, subscribes to everything anew and
//! says so ([`Inbound::Lost`], then [`Inbound::Resubscribed`]).

use super::publisher::PublisherHandle;
use super::{BusError, Inbound, SubscriberCmd, MAX_BACKOFF, PROBE_EVERY, PROBE_TIMEOUT};
use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Subscribe and status requests waiting for the subscriber task.
const COMMAND_QUEUE: usize = 1024;

pub(super) struct Subscriber {
    client: redis::Client,
    probe_channel: String,
    publisher: PublisherHandle,
    out: mpsc::Sender<Inbound>,
    cmds: mpsc::Receiver<SubscriberCmd>,
    cancel: CancellationToken,
    /// Channel → how many subscribe calls hold it.
    wanted: HashMap<String, usize>,
    connected: bool,
    /// The probe in flight: its number and when it was sent.
    probe: Option<(u64, Instant)>,
    probes_sent: u64,
}

/// Why serving one connection ended.
enum End {
    Lost,
    Stopped,
}

impl Subscriber {
    /// Opens the first connection (an error when Redis does not answer now) and starts the task.
    pub(super) async fn spawn(
        client: redis::Client,
        probe_channel: String,
        publisher: PublisherHandle,
        out: mpsc::Sender<Inbound>,
        cancel: CancellationToken,
    ) -> Result<mpsc::Sender<SubscriberCmd>, BusError> {
        let first = client.get_async_pubsub().await?.split();
        let (tx, cmds) = mpsc::channel(COMMAND_QUEUE);
        let subscriber = Subscriber {
            client,
            probe_channel,
            publisher,
            out,
            cmds,
            cancel,
            wanted: HashMap::new(),
            connected: false,
            probe: None,
            probes_sent: 0,
        };
        tokio::spawn(subscriber.run(first));
        Ok(tx)
    }

    async fn run(mut self, first: (PubSubSink, PubSubStream)) {
        let mut conn = Some(first);
        let mut was_lost = false;
        loop {
            let (mut sink, stream) = match conn.take() {
                Some(c) => c,
                None => match self.reconnect().await {
                    Some(c) => c,
                    None => return,
                },
            };
            if let Err(e) = self.subscribe_all(&mut sink).await {
                tracing::warn!(error = %e, "subscribing again failed; reconnecting");
                continue;
            }
            self.connected = true;
            self.probe = None;
            if was_lost && self.out.send(Inbound::Resubscribed).await.is_err() {
                return;
            }
            match self.serve(sink, stream).await {
                End::Stopped => return,
                End::Lost => {
                    self.connected = false;
                    was_lost = true;
                    tracing::warn!("Redis subscription lost; reconnecting");
                    if self.out.send(Inbound::Lost).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn subscribe_all(&mut self, sink: &mut PubSubSink) -> Result<(), BusError> {
        let mut channels: Vec<&String> = self.wanted.keys().collect();
        channels.push(&self.probe_channel);
        for chunk in channels.chunks(512) {
            sink.subscribe(chunk).await?;
        }
        Ok(())
    }

    /// Connects again with a growing pause, answering commands meanwhile. `None`: stopped.
    async fn reconnect(&mut self) -> Option<(PubSubSink, PubSubStream)> {
        let mut backoff = Duration::from_millis(50);
        loop {
            let attempt = tokio::time::timeout(MAX_BACKOFF, self.client.get_async_pubsub());
            if let Ok(Ok(pubsub)) = attempt.await {
                return Some(pubsub.split());
            }
            let pause = tokio::time::sleep(backoff);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = &mut pause => break,
                    _ = self.cancel.cancelled() => return None,
                    cmd = self.cmds.recv() => match cmd {
                        Some(cmd) => self.note_offline(cmd),
                        None => return None,
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// A command while disconnected: remembered, answered at once (it takes effect on
    /// reconnect, and the consumer fills the gap then).
    fn note_offline(&mut self, cmd: SubscriberCmd) {
        match cmd {
            SubscriberCmd::Subscribe(channel, reply) => {
                *self.wanted.entry(channel).or_default() += 1;
                let _ = reply.send(());
            }
            SubscriberCmd::Unsubscribe(channel) => {
                self.release(&channel);
            }
            SubscriberCmd::Status(reply) => {
                let _ = reply.send(false);
            }
        }
    }

    /// Drops one hold on `channel`; true when it was the last.
    fn release(&mut self, channel: &str) -> bool {
        match self.wanted.get_mut(channel) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.wanted.remove(channel);
                true
            }
            None => false,
        }
    }

    async fn serve(&mut self, mut sink: PubSubSink, mut stream: PubSubStream) -> End {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    None => return End::Lost,
                    Some(msg) => {
                        if !self.received(msg).await {
                            return End::Stopped;
                        }
                    }
                },
                cmd = self.cmds.recv() => match cmd {
                    None => return End::Stopped,
                    Some(cmd) => {
                        if self.command(&mut sink, cmd).await.is_err() {
                            return End::Lost;
                        }
                    }
                },
                _ = tick.tick() => {
                    if !self.probe_alive() {
                        tracing::warn!("Redis subscription silent: no probe back");
                        return End::Lost;
                    }
                }
                _ = self.cancel.cancelled() => return End::Stopped,
            }
        }
    }

    /// Hands a message on (false: the consumer is gone).
    async fn received(&mut self, msg: redis::Msg) -> bool {
        if msg.get_channel_name() == self.probe_channel {
            let number = std::str::from_utf8(msg.get_payload_bytes())
                .ok()
                .and_then(|s| s.parse::<u64>().ok());
            if let (Some(n), Some((waiting, _))) = (number, self.probe) {
                if n >= waiting {
                    self.probe = None;
                }
            }
            return true;
        }
        let item = Inbound::Message {
            channel: msg.get_channel_name().to_owned(),
            payload: Bytes::copy_from_slice(msg.get_payload_bytes()),
        };
        self.out.send(item).await.is_ok()
    }

    async fn command(&mut self, sink: &mut PubSubSink, cmd: SubscriberCmd) -> Result<(), BusError> {
        match cmd {
            SubscriberCmd::Subscribe(channel, reply) => {
                let count = self.wanted.entry(channel.clone()).or_default();
                *count += 1;
                let result = if *count == 1 {
                    sink.subscribe(&channel).await.map_err(BusError::from)
                } else {
                    Ok(())
                };
                let _ = reply.send(());
                result
            }
            SubscriberCmd::Unsubscribe(channel) => {
                if self.release(&channel) {
                    sink.unsubscribe(&channel).await?;
                }
                Ok(())
            }
            SubscriberCmd::Status(reply) => {
                let _ = reply.send(self.connected);
                Ok(())
            }
        }
    }

    /// Checks the probe in flight and sends the next one; false when a probe is overdue.
    fn probe_alive(&mut self) -> bool {
        if let Some((_, sent)) = self.probe {
            return sent.elapsed() < PROBE_TIMEOUT;
        }
        self.probes_sent += 1;
        self.probe = Some((self.probes_sent, Instant::now()));
        self.publisher.publish(
            self.probe_channel.clone(),
            Bytes::from(self.probes_sent.to_string()),
        );
        true
    }
}
