//! From evaluated entity values to the resolved program of conv-model, checking the ranges
//! the runtime relies on (E0507).

use crate::codes;
use crate::elab::Elaborated;
use crate::eval::Evaluator;
use crate::spans::{EntitySpans, Place};

/// Where to point a diagnostic: found only when one is reported.
type Where<'w> = &'w dyn Fn() -> Place;
use crate::value::Value;
use conv_lang::Diagnostic;
use conv_lang::ast::EntityKind;
use conv_model as m;
use std::collections::BTreeMap;

pub struct Extractor<'x, 'e, 'a> {
    pub ev: &'x mut Evaluator<'e, 'a>,
    pub elab: &'e Elaborated<'a>,
    pub spans: &'x EntitySpans<'a>,
    pub diags: Vec<Diagnostic>,
    pub errors: crate::value::ErrorScan,
}

impl<'e> Extractor<'_, 'e, '_> {
    pub fn program(&mut self) -> m::Program {
        let count = |kind| self.elab.entities.iter().filter(|e| e.kind == kind).count();
        let mut program = m::Program {
            schema_version: m::PROGRAM_SCHEMA_VERSION,
            environments: Vec::with_capacity(count(EntityKind::Environment)),
            services: Vec::with_capacity(count(EntityKind::Service)),
            releases: Vec::with_capacity(count(EntityKind::Release)),
        };
        for info in &self.elab.entities {
            let value = self.ev.entity_value(info.kind, &info.name);
            if value.is_error() || self.errors.contains_error(&value) {
                continue;
            }
            match info.kind {
                EntityKind::Environment => program.environments.push(self.environment(&info.name, &value)),
                EntityKind::Service => program.services.push(self.service(&info.name, &value)),
                EntityKind::Release => program.releases.push(self.release(&info.name, &value)),
            }
        }
        program
    }

    fn get(&self, v: &Value, field: &str) -> Value {
        let Value::Record(rid, fields) = v else {
            return Value::Error;
        };
        match self.elab.types.record(*rid).field(field) {
            Some((i, _)) => fields[i].clone(),
            None => Value::Error,
        }
    }

    fn variant<'v>(&self, v: &'v Value) -> (&'e str, Option<&'v Value>) {
        match v {
            Value::Variant(e, i, payload) => (&self.elab.types.enum_ty(*e).variants[*i].name, payload.as_deref()),
            _ => ("", None),
        }
    }

    fn out_of_range(&mut self, place: Where<'_>, what: &str, range: &str) {
        let place = place();
        self.diags.push(
            Diagnostic::error(&codes::FIELD_OUT_OF_RANGE, place.0, place.1, format!("{what} is out of range"))
                .with_primary_label(format!("must be {range}")),
        );
    }

    /// A count that must be at least 1.
    fn positive(&mut self, v: &Value, place: Where<'_>, what: &str) -> u32 {
        match v {
            Value::Int(i) if *i >= 1 && *i <= u32::MAX as i64 => *i as u32,
            Value::Int(_) => {
                self.out_of_range(place, what, "at least 1");
                1
            }
            _ => 1,
        }
    }

    fn port(&mut self, v: &Value, place: Where<'_>, what: &str) -> u16 {
        match v {
            Value::Int(i) if (1..=65535).contains(i) => *i as u16,
            _ => {
                self.out_of_range(place, what, "a port between 1 and 65535");
                1
            }
        }
    }

    fn environment(&mut self, name: &str, v: &Value) -> m::Environment {
        let kind = EntityKind::Environment;
        let spans = self.spans;
        let place = &|| spans.field(kind, name, "provider");
        let provider_value = self.get(v, "provider");
        let (variant, payload) = self.variant(&provider_value);
        let payload = payload.cloned().unwrap_or(Value::Error);
        let provider = match variant {
            "kubernetes" => m::Provider::Kubernetes {
                context: opt_str(&self.get(&payload, "context")),
                namespace: str(&self.get(&payload, "namespace")),
            },
            "simulator" => m::Provider::Simulator {
                seed: int(&self.get(&payload, "seed")).max(0) as u64,
                failure_rate_percent: percent(&self.get(&payload, "failure_rate")),
                latency_ms: duration(&self.get(&payload, "latency")),
            },
            _ => m::Provider::Local {
                instances_per_site: self.positive(
                    &self.get(&payload, "instances_per_site"),
                    place,
                    "`instances_per_site`",
                ),
                base_port: self.port(&self.get(&payload, "base_port"), place, "`base_port`"),
            },
        };
        let requires = list(&self.get(v, "requires"))
            .iter()
            .map(|r| {
                let (variant, payload) = self.variant(r);
                let p = payload.cloned().unwrap_or(Value::Error);
                match variant {
                    "approval" => m::Requirement::Approval { group: str(&self.get(&p, "group")) },
                    "converged" => m::Requirement::Converged { env: m::EnvName(entity_name(&self.get(&p, "env"))) },
                    "freeze" => m::Requirement::Freeze {
                        from: str(&self.get(&p, "from")),
                        until: str(&self.get(&p, "until")),
                        reason: str(&self.get(&p, "reason")),
                    },
                    _ => m::Requirement::Window {
                        weekdays: list(&self.get(&p, "weekdays")).iter().map(str).collect(),
                        from: str(&self.get(&p, "from")),
                        until: str(&self.get(&p, "until")),
                    },
                }
            })
            .collect();
        m::Environment {
            name: m::EnvName(name.to_string()),
            provider,
            sites: list(&self.get(v, "sites")).iter().map(|s| m::SiteName(str(s))).collect(),
            after: list(&self.get(v, "after")).iter().map(|e| m::EnvName(entity_name(e))).collect(),
            requires,
            critical: self.get(v, "critical") == Value::Bool(true),
            prometheus: opt_str(&self.get(v, "prometheus")),
            notify: self.notify(v),
        }
    }

    /// An entity's `notify` list.
    fn notify(&self, v: &Value) -> Vec<m::Notify> {
        list(&self.get(v, "notify"))
            .iter()
            .map(|n| {
                let payload = self.variant(n).1.cloned().unwrap_or(Value::Error);
                m::Notify {
                    url: str(&self.get(&payload, "url")),
                    events: list(&self.get(&payload, "events"))
                        .iter()
                        .filter_map(|e| m::NotifyEvent::from_name(self.variant(e).0))
                        .collect(),
                    format: match self.variant(&self.get(&payload, "format")).0 {
                        "slack" => m::NotifyFormat::Slack,
                        _ => m::NotifyFormat::Json,
                    },
                }
            })
            .collect()
    }

    fn service(&mut self, name: &str, v: &Value) -> m::Service {
        let kind = EntityKind::Service;
        let spans = self.spans;
        let run_value = self.get(v, "run");
        let (variant, payload) = self.variant(&run_value);
        let p = payload.cloned().unwrap_or(Value::Error);
        let run = match variant {
            "image" => m::Run::Image { name: str(&self.get(&p, "name")), tag: opt_str(&self.get(&p, "tag")) },
            _ => m::Run::Command {
                argv: list(&self.get(&p, "argv")).iter().map(str).collect(),
                env: string_map(&self.get(&p, "env")),
            },
        };
        let replicas = match self.get(v, "replicas") {
            Value::None => None,
            r => Some(self.positive(&r, &|| spans.field(kind, name, "replicas"), "`replicas`")),
        };
        let ports_place = &|| spans.field(kind, name, "ports");
        let ports = list(&self.get(v, "ports")).iter().map(|p| self.port(p, ports_place, "a port")).collect();
        let gates_place = &|| spans.field(kind, name, "gates");
        let gates = list(&self.get(v, "gates")).iter().map(|g| self.gate(g, gates_place)).collect();
        m::Service {
            name: m::ServiceName(name.to_string()),
            run,
            version: str(&self.get(v, "version")),
            replicas,
            config: string_map(&self.get(v, "config")),
            secrets: match self.get(v, "secrets") {
                Value::Map(m) => m
                    .iter()
                    .map(|(k, source)| {
                        let payload = self.variant(source).1.cloned().unwrap_or(Value::Error);
                        let source = match self.variant(source).0 {
                            "file" => m::SecretSource::File { path: str(&self.get(&payload, "path")) },
                            _ => m::SecretSource::Env { name: str(&self.get(&payload, "name")) },
                        };
                        (k.to_string(), source)
                    })
                    .collect(),
                _ => BTreeMap::new(),
            },
            ports,
            depends_on: list(&self.get(v, "depends_on")).iter().map(|s| m::ServiceName(entity_name(s))).collect(),
            gates,
        }
    }

    /// A metrics gate's `scope`: `per_site` (the default) or `environment_wide`.
    fn scope(&self, payload: &Value) -> m::GateScope {
        match self.variant(&self.get(payload, "scope")).0 {
            "environment_wide" => m::GateScope::Environment,
            _ => m::GateScope::Site,
        }
    }

    fn gate(&mut self, g: &Value, place: Where<'_>) -> m::Gate {
        let (variant, payload) = self.variant(g);
        let p = payload.cloned().unwrap_or(Value::Error);
        let window = duration(&self.get(&p, "window"));
        if variant != "approval" && window == 0 {
            self.out_of_range(place, "a gate's `window`", "longer than 0s");
        }
        match variant {
            "latency" => {
                let quantile = percent(&self.get(&p, "quantile"));
                if quantile <= 0.0 || quantile >= 100.0 {
                    self.out_of_range(place, "a latency gate's `quantile`", "between 0% and 100%, exclusive");
                }
                let under = duration(&self.get(&p, "under"));
                if under == 0 {
                    self.out_of_range(place, "a latency gate's `under`", "longer than 0ms");
                }
                let scope = self.scope(&p);
                m::Gate::Latency { quantile_percent: quantile, under_ms: under, window_ms: window, scope }
            }
            "error_rate" => {
                let scope = self.scope(&p);
                m::Gate::ErrorRate { under_percent: percent(&self.get(&p, "under")), window_ms: window, scope }
            }
            "http" => {
                let timeout = duration(&self.get(&p, "timeout"));
                if timeout == 0 {
                    self.out_of_range(place, "an http gate's `timeout`", "longer than 0ms");
                }
                m::Gate::Http { path: str(&self.get(&p, "path")), timeout_ms: timeout, window_ms: window }
            }
            "query" => m::Gate::Query {
                promql: str(&self.get(&p, "promql")),
                max: float(&self.get(&p, "max")),
                window_ms: window,
            },
            _ => m::Gate::Approval { group: str(&self.get(&p, "group")) },
        }
    }

    fn release(&mut self, name: &str, v: &Value) -> m::Release {
        let strategy = self.get(v, "strategy");
        let (_, payload) = self.variant(&strategy);
        let stages_value = payload.map(|p| self.get(p, "stages")).unwrap_or(Value::Error);
        let mut stages = Vec::new();
        for s in list(&stages_value) {
            let stage_name = str(&self.get(s, "name"));
            let spans = self.spans;
            let place = &|| spans.stage(name, &stage_name);
            let fraction = percent(&self.get(s, "fraction"));
            if fraction <= 0.0 {
                self.out_of_range(&|| spans.stage_field(name, &stage_name, "fraction"), "`fraction`", "above 0%");
            }
            let max_parallel = match self.get(s, "max_parallel") {
                Value::None => None,
                mp => {
                    Some(self.positive(&mp, &|| spans.stage_field(name, &stage_name, "max_parallel"), "`max_parallel`"))
                }
            };
            let gates = list(&self.get(s, "gates")).iter().map(|g| self.gate(g, place)).collect();
            stages.push(m::Stage {
                name: stage_name,
                env: m::EnvName(entity_name(&self.get(s, "env"))),
                fraction_percent: fraction,
                bake_ms: duration(&self.get(s, "bake")),
                max_parallel,
                max_failures_percent: percent(&self.get(s, "max_failures")),
                gates,
            });
        }
        let on_failure = match self.variant(&self.get(v, "on_failure")).0 {
            "pause" => m::OnFailure::Pause,
            _ => m::OnFailure::Rollback,
        };
        m::Release {
            name: m::ReleaseName(name.to_string()),
            services: list(&self.get(v, "services")).iter().map(|s| m::ServiceName(entity_name(s))).collect(),
            stages,
            on_failure,
            notify: self.notify(v),
        }
    }
}

fn list(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        _ => &[],
    }
}

fn str(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => String::new(),
    }
}

fn opt_str(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

fn percent(v: &Value) -> f64 {
    match v {
        Value::Percent(p) => *p,
        _ => 0.0,
    }
}

fn duration(v: &Value) -> u64 {
    match v {
        Value::Duration(d) => *d,
        _ => 0,
    }
}

fn entity_name(v: &Value) -> String {
    match v {
        Value::Entity(_, n) => n.to_string(),
        _ => String::new(),
    }
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (k.to_string(), str(v))).collect(),
        _ => BTreeMap::new(),
    }
}
