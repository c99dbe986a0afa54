"""The workflow as data: stages and actions read from a policy pack of kind `workflow`."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smecluster.accounts.roles import roles
from smecluster.policy.pack import PackError, load_pack

DEFAULT_WORKFLOW = "jiangsu-workflow-2023"
CHECKS = ("all_experts_scored", "notice_period_over", "validity_ending")


class Stage(BaseModel):
    """A stage an application can be in; `public` stages are visible to everybody, `evidence` stages
    (the applicant's) take new evidence files."""

    model_config = ConfigDict(extra="forbid")
    id: str
    zh: str
    en: str
    public: bool = False
    evidence: bool = False


class Action(BaseModel):
    """A move between stages (or an action recorded in place), who may do it and what it needs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    zh: str
    en: str
    from_: list[str] = Field(alias="from")
    to: str
    roles: list[str]
    requires: list[str] = Field(default_factory=list)
    comment_required: bool = False
    attach_verdict: bool = False
    starts_notice: bool = False
    starts_validity: bool = False


class Workflow(BaseModel):
    """A checked workflow: stages, actions and deadline parameters."""

    id: str
    version: str
    parameters: dict[str, Any]
    stages: list[Stage]
    actions: list[Action]

    def stage(self, stage_id: str) -> Stage:
        """A stage by id."""
        return next(s for s in self.stages if s.id == stage_id)

    def action(self, action_id: str) -> Action | None:
        """An action by id, or None."""
        return next((a for a in self.actions if a.id == action_id), None)

    def available(self, stage: str, role: str | None) -> list[Action]:
        """The actions a role may take on an application in `stage`."""
        return [a for a in self.actions if stage in a.from_ and role in a.roles]

    @property
    def private_stages(self) -> set[str]:
        """Stages seen only by accounts in scope."""
        return {s.id for s in self.stages if not s.public}

    @property
    def public_stages(self) -> set[str]:
        """Stages everybody may see, anonymous visitors included."""
        return {s.id for s in self.stages if s.public}

    def takes_evidence(self, stage_id: str) -> bool:
        """Whether an application in this stage takes new evidence files."""
        return any(s.id == stage_id and s.evidence for s in self.stages)

    def notice_end(self, start: date) -> date:
        """The last day of the public notice: N Chinese working days from the day after start (public
        holidays and adjusted working weekends counted as the State Council publishes them; a year not
        yet published counts Monday to Friday, see workflow.working_days)."""
        from smecluster.workflow.working_days import add_working_days

        return add_working_days(start, int(self.parameters["notice_working_days"]))

    def validity_end(self, start: date) -> date:
        """The day a recognition granted on `start` expires."""
        years = int(self.parameters["validity_years"])
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February
            return start.replace(year=start.year + years, day=28)


@lru_cache(maxsize=4)
def load_workflow(pack_id: str = DEFAULT_WORKFLOW) -> Workflow:
    """Read a workflow pack and check that actions name known stages, roles and checks."""
    pack = load_pack(pack_id)
    if pack.kind != "workflow":
        raise PackError(f"{pack_id}: kind is {pack.kind}, not workflow")
    try:
        wf = Workflow(
            id=pack.id,
            version=pack.version,
            parameters=pack.parameters,
            stages=[Stage.model_validate(s) for s in pack.tables["stages"]],
            actions=[Action.model_validate(a) for a in pack.tables["actions"]],
        )
    except (KeyError, ValueError) as exc:
        raise PackError(f"{pack_id}: bad workflow tables: {exc}") from None
    stage_ids = {s.id for s in wf.stages}
    for a in wf.actions:
        for s in [*a.from_, a.to]:
            if s not in stage_ids:
                raise PackError(f"{pack_id}: action {a.id}: unknown stage {s!r}")
        for r in a.roles:
            if r not in roles():
                raise PackError(f"{pack_id}: action {a.id}: unknown role {r!r}")
        for c in a.requires:
            if c not in CHECKS:
                raise PackError(f"{pack_id}: action {a.id}: unknown check {c!r}; known: {', '.join(CHECKS)}")
    for key in ("notice_working_days", "validity_years"):
        if key not in wf.parameters:
            raise PackError(f"{pack_id}: parameters lack {key}")
    return wf
