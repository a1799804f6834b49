//! A `tracing` subscriber that keeps everything logged, to check what the crate logs: as text,
//! and each span's fields.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Field names and their values as `Debug` prints them.
pub type FieldList = Vec<(&'static str, String)>;

/// Every span and event, with its fields.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Log>>);

#[derive(Default)]
struct Log {
    /// One line per span, recorded value and event, in order.
    lines: Vec<String>,
    /// Each span's name and fields (those it was opened with, then those recorded later); the
    /// span with id `n` is at `n - 1`.
    spans: Vec<(&'static str, FieldList)>,
}

impl Capture {
    /// Everything, one line each: `span NAME k=v ..`, `record k=v ..`, `event LEVEL k=v ..`.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().lines.join("\n")
    }

    /// The fields of each span named `name`.
    pub fn spans(&self, name: &str) -> Vec<FieldList> {
        let log = self.0.lock().unwrap();
        log.spans
            .iter()
            .filter(|(span, _)| *span == name)
            .map(|(_, fields)| fields.clone())
            .collect()
    }
}

struct Fields(FieldList);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}")));
    }
}

impl Fields {
    fn line(&self, head: String) -> String {
        self.0.iter().fold(head, |mut line, (name, value)| {
            let _ = write!(line, " {name}={value}");
            line
        })
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(Vec::new());
        span.record(&mut fields);
        let name = span.metadata().name();
        let mut log = self.0.lock().unwrap();
        log.lines.push(fields.line(format!("span {name}")));
        log.spans.push((name, fields.0));
        Id::from_u64(log.spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields(Vec::new());
        values.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        log.lines.push(fields.line("record".into()));
        if let Some((_, recorded)) = log.spans.get_mut(span.into_u64() as usize - 1) {
            recorded.extend(fields.0);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        let line = fields.line(format!("event {}", event.metadata().level()));
        self.0.lock().unwrap().lines.push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
