//! Domain validation: the whole rollout (environments x services x gates x stages) checked
//! as a whole, in the domain's words. Runs only on a program with no other errors, so that
//! every rule sees complete data and reports root causes.

use crate::codes;
use crate::cycles::find_cycles;
use crate::hash::{HashMap, HashSet};
use crate::spans::EntitySpans;
use conv_lang::Diagnostic;
use conv_lang::ast::EntityKind;
use conv_model::program::{duration, trim_float};
use conv_model::{EnvName, Environment, Program, Release, Service};

pub fn validate(p: &Program, spans: &EntitySpans<'_>) -> Vec<Diagnostic> {
    let services = p.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let environments = p.environments.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut v = Validator { p, spans, services, environments, diags: Vec::new() };
    v.sites();
    v.environment_cycles();
    v.service_cycles();
    v.release_membership();
    for r in &p.releases {
        v.stages(r);
    }
    v.dependencies();
    v.critical_without_gates();
    v.bake_times();
    v.diags
}

struct Validator<'p, 's> {
    p: &'p Program,
    services: HashMap<&'p str, &'p Service>,
    environments: HashMap<&'p str, &'p Environment>,
    spans: &'s EntitySpans<'s>,
    diags: Vec<Diagnostic>,
}

impl Validator<'_, '_> {
    fn sites(&mut self) {
        for env in &self.p.environments {
            let (file, span) = self.spans.field(EntityKind::Environment, env.name.as_str(), "sites");
            if env.sites.is_empty() {
                self.diags.push(
                    Diagnostic::error(
                        &codes::BAD_SITES,
                        file,
                        span,
                        format!("environment `{}` has no sites", env.name),
                    )
                    .with_primary_label("nothing to deploy to")
                    .with_help("list at least one site: `sites = [\"site-1\"]`"),
                );
            }
            let mut seen = HashSet::default();
            for site in &env.sites {
                if !seen.insert(site) {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::BAD_SITES,
                            file,
                            span,
                            format!("site {:?} is listed twice in `{}`", site.as_str(), env.name),
                        )
                        .with_primary_label("listed twice")
                        .with_help("list each site once"),
                    );
                }
            }
        }
    }

    fn environment_cycles(&mut self) {
        let nodes: Vec<(&str, Vec<&str>)> = self
            .p
            .environments
            .iter()
            .map(|e| (e.name.as_str(), e.after.iter().map(|a| a.as_str()).collect()))
            .collect();
        for path in named_cycles(&nodes) {
            let (file, span) = self.spans.field(EntityKind::Environment, path[0], "after");
            self.diags.push(
                Diagnostic::error(
                    &codes::ENVIRONMENT_ORDER_CYCLE,
                    file,
                    span,
                    format!("environments wait for each other: {}", path.join(" after ")),
                )
                .with_primary_label("part of the cycle")
                .with_help("none of them could ever start; remove one `after` edge"),
            );
        }
    }

    fn service_cycles(&mut self) {
        let nodes: Vec<(&str, Vec<&str>)> = self
            .p
            .services
            .iter()
            .map(|s| (s.name.as_str(), s.depends_on.iter().map(|d| d.as_str()).collect()))
            .collect();
        for path in named_cycles(&nodes) {
            let (file, span) = self.spans.field(EntityKind::Service, path[0], "depends_on");
            self.diags.push(
                Diagnostic::error(
                    &codes::SERVICE_DEPENDENCY_CYCLE,
                    file,
                    span,
                    format!("services depend on each other: {}", path.join(" -> ")),
                )
                .with_primary_label("part of the cycle")
                .with_help("no start order exists; remove one `depends_on` edge"),
            );
        }
    }

    fn release_membership(&mut self) {
        let mut owner: HashMap<&str, &str> = HashMap::default();
        for r in &self.p.releases {
            let (file, span) = self.spans.field(EntityKind::Release, r.name.as_str(), "services");
            let mut seen = HashSet::default();
            for s in &r.services {
                if !seen.insert(s) {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SERVICE_LISTED_TWICE,
                            file,
                            span,
                            format!("release `{}` lists service `{s}` twice", r.name),
                        )
                        .with_primary_label("listed twice")
                        .with_help("list it once"),
                    );
                    continue;
                }
                if let Some(first) = owner.insert(s.as_str(), r.name.as_str()) {
                    let other = self.spans.field(EntityKind::Release, first, "services");
                    self.diags.push(
                        Diagnostic::error(
                            &codes::SERVICE_IN_TWO_RELEASES,
                            file,
                            span,
                            format!("service `{s}` is in releases `{first}` and `{}`", r.name),
                        )
                        .with_primary_label(format!("`{s}` is also listed here"))
                        .with_label(other.0, other.1, format!("`{s}` is in `{first}` here"))
                        .with_help("a release rolls back its services together; keep each service in one release"),
                    );
                }
            }
        }
    }

    fn stages(&mut self, r: &Release) {
        let rname = r.name.as_str();
        if r.stages.is_empty() {
            let (file, span) = self.spans.field(EntityKind::Release, rname, "strategy");
            self.diags.push(
                Diagnostic::error(
                    &codes::RELEASE_WITHOUT_STAGES,
                    file,
                    span,
                    format!("release `{rname}` has no stage"),
                )
                .with_primary_label("this strategy deploys nothing")
                .with_help("add a `stage NAME { env = ..., fraction = ... }` block"),
            );
            return;
        }
        let mut names: HashSet<&str> = HashSet::default();
        let mut last_fraction: HashMap<&str, (f64, &str)> = HashMap::default();
        for (i, s) in r.stages.iter().enumerate() {
            let place = self.spans.stage(rname, &s.name);
            if !names.insert(&s.name) {
                self.diags.push(
                    Diagnostic::error(
                        &codes::DUPLICATE_STAGE,
                        place.0,
                        place.1,
                        format!("release `{rname}` has two stages named `{}`", s.name),
                    )
                    .with_primary_label("named again here")
                    .with_help("stage names address approvals and the journal; make them unique"),
                );
            }
            if let Some((prev, prev_name)) = last_fraction.get(s.env.as_str())
                && s.fraction_percent < *prev
            {
                let at = self.spans.stage_field(rname, &s.name, "fraction");
                self.diags.push(
                    Diagnostic::error(
                        &codes::STAGE_FRACTION_DECREASES,
                        at.0,
                        at.1,
                        format!(
                            "stage `{}` sends {}% of {} after `{prev_name}` sent {}%",
                            s.name,
                            trim_float(s.fraction_percent),
                            s.env,
                            trim_float(*prev)
                        ),
                    )
                    .with_primary_label("smaller than the stage before it")
                    .with_help("order the stages of an environment by increasing fraction"),
                );
            }
            last_fraction.insert(s.env.as_str(), (s.fraction_percent, &s.name));
            // An environment's stages come after the release's stages in the environments it is `after`.
            if let Some(env) = self.environments.get(s.env.as_str()).copied() {
                let first_in_env = r.stages.iter().position(|t| t.env == s.env) == Some(i);
                for before in &env.after {
                    let deploys_before = r.stages.iter().any(|t| &t.env == before);
                    // Skipping the environment altogether would ship what it never saw.
                    if !deploys_before && first_in_env {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::STAGE_BEFORE_REQUIRED_ENVIRONMENT,
                                place.0,
                                place.1,
                                format!(
                                    "release `{rname}` deploys to {} but never to {before}, which {} comes after",
                                    s.env, s.env
                                ),
                            )
                            .with_primary_label(format!("{} comes after {before}", s.env))
                            .with_help(format!("add a stage for {before} before stage `{}`", s.name)),
                        );
                        continue;
                    }
                    if let Some(j) = r.stages.iter().rposition(|t| &t.env == before)
                        && j > i
                    {
                        self.diags.push(
                            Diagnostic::error(
                                &codes::STAGE_BEFORE_REQUIRED_ENVIRONMENT,
                                place.0,
                                place.1,
                                format!(
                                    "stage `{}` deploys to {} before stage `{}` deploys to {before}",
                                    s.name, s.env, r.stages[j].name
                                ),
                            )
                            .with_primary_label(format!("{} comes after {before}", s.env))
                            .with_help(format!("move stage `{}` before stage `{}`", r.stages[j].name, s.name)),
                        );
                        break;
                    }
                }
                let sites = env.sites.len();
                let allowed = (s.max_failures_percent / 100.0 * sites as f64).floor() as usize;
                let at = self.spans.stage_field(rname, &s.name, "max_failures");
                if s.max_failures_percent > 0.0 && allowed == 0 {
                    self.diags.push(
                        Diagnostic::warning(
                            &codes::BUDGET_ALLOWS_NO_FAILURE,
                            at.0,
                            at.1,
                            format!(
                                "`max_failures = {}%` of {sites} site{} allows 0 failures",
                                trim_float(s.max_failures_percent),
                                if sites == 1 { "" } else { "s" }
                            ),
                        )
                        .with_primary_label("rounds down to no site")
                        .with_help(format!(
                            "to allow one failure, use at least {}%",
                            trim_float((100.0 / sites as f64).ceil())
                        )),
                    );
                } else if sites > 0 && allowed >= sites {
                    self.diags.push(
                        Diagnostic::error(
                            &codes::FAILURE_BUDGET_TOO_LARGE,
                            at.0,
                            at.1,
                            format!(
                                "`max_failures = {}%` lets all {sites} sites of {} fail",
                                trim_float(s.max_failures_percent),
                                s.env
                            ),
                        )
                        .with_primary_label("this stage could never fail")
                        .with_help("allow fewer failures than there are sites"),
                    );
                }
            }
        }
    }

    fn environments_of(r: &Release) -> HashSet<&EnvName> {
        r.stages.iter().map(|s| &s.env).collect()
    }

    fn dependencies(&mut self) {
        let release_of: HashMap<&str, &Release> =
            self.p.releases.iter().flat_map(|r| r.services.iter().map(move |s| (s.as_str(), r))).collect();
        for r in &self.p.releases {
            let envs = Self::environments_of(r);
            for sname in &r.services {
                let Some(service) = self.services.get(sname.as_str()).copied() else {
                    continue;
                };
                for dep in &service.depends_on {
                    if r.services.contains(dep) {
                        continue;
                    }
                    let (file, span) = self.spans.field(EntityKind::Service, sname.as_str(), "depends_on");
                    match release_of.get(dep.as_str()) {
                        None => self.diags.push(
                            Diagnostic::error(
                                &codes::DEPENDENCY_NOT_ORDERED,
                                file,
                                span,
                                format!(
                                    "service `{sname}` depends on `{dep}`, which is in no release and is never deployed"
                                ),
                            )
                            .with_primary_label(format!("`{dep}` is never deployed"))
                            .with_help(format!("add `{dep}` to release `{}`", r.name)),
                        ),
                        Some(other) => {
                            let theirs = Self::environments_of(other);
                            if let Some(missing) = envs.iter().find(|e| !theirs.contains(*e)) {
                                self.diags.push(
                                    Diagnostic::error(
                                        &codes::DEPENDENCY_NOT_ORDERED,
                                        file,
                                        span,
                                        format!(
                                            "service `{sname}` depends on `{dep}`, which is not in release `{}` and is not deployed to {missing}",
                                            r.name
                                        ),
                                    )
                                    .with_primary_label(format!("`{dep}` is in release `{}`", other.name))
                                    .with_help(format!("put `{dep}` in release `{}`, or deploy release `{}` to {missing}", r.name, other.name)),
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    fn critical_without_gates(&mut self) {
        let mut reported = HashSet::default();
        for r in &self.p.releases {
            for s in &r.stages {
                let Some(env) = self.environments.get(s.env.as_str()).copied() else {
                    continue;
                };
                if !env.critical || !s.gates.is_empty() {
                    continue;
                }
                for sname in &r.services {
                    let Some(service) = self.services.get(sname.as_str()).copied() else {
                        continue;
                    };
                    if service.gates.is_empty() && reported.insert((env.name.as_str(), sname.as_str())) {
                        let (file, span) = self.spans.entity(EntityKind::Service, sname.as_str());
                        self.diags.push(
                            Diagnostic::warning(
                                &codes::CRITICAL_WITHOUT_GATES,
                                file,
                                span,
                                format!("{} is critical, but service {sname} has no health gate", env.name),
                            )
                            .with_primary_label("deployed without any gate")
                            .with_help("add gates, such as `gates = [http_ok(), max_error_rate(under: 1%)]`"),
                        );
                    }
                }
            }
        }
    }

    fn bake_times(&mut self) {
        for r in &self.p.releases {
            for s in &r.stages {
                let service_gates = r
                    .services
                    .iter()
                    .filter_map(|n| self.services.get(n.as_str()).copied())
                    .flat_map(|svc| svc.gates.iter());
                let longest = s
                    .gates
                    .iter()
                    .chain(service_gates)
                    .filter_map(|g| g.window_ms().map(|w| (w, g)))
                    .max_by_key(|(w, _)| *w);
                if let Some((window, gate)) = longest
                    && s.bake_ms < window
                {
                    let at = self.spans.stage_field(r.name.as_str(), &s.name, "bake");
                    self.diags.push(
                        Diagnostic::warning(
                            &codes::BAKE_SHORTER_THAN_WINDOW,
                            at.0,
                            at.1,
                            format!(
                                "stage `{}` bakes {} but a gate watches a {} window",
                                s.name,
                                duration(s.bake_ms),
                                duration(window)
                            ),
                        )
                        .with_primary_label("shorter than the gate's window")
                        .with_note(format!("the gate: {}", gate.describe()))
                        .with_help(format!("bake for at least {}", duration(window))),
                    );
                }
            }
        }
    }
}

/// The cycles of a graph of named nodes (`name -> names it points to`), each as the path of
/// names that closes it: `a, b, a`.
fn named_cycles<'n>(nodes: &[(&'n str, Vec<&'n str>)]) -> Vec<Vec<&'n str>> {
    let position: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, (n, _))| (*n, i)).collect();
    let graph: Vec<Vec<usize>> =
        nodes.iter().map(|(_, to)| to.iter().filter_map(|t| position.get(t).copied()).collect()).collect();
    find_cycles(&graph)
        .into_iter()
        .map(|cycle| {
            let mut path: Vec<&str> = cycle.iter().map(|i| nodes[*i].0).collect();
            path.push(path[0]);
            path
        })
        .collect()
}
