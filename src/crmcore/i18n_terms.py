"""Codes people read as words: marked here for the catalogues, shown with :func:`term`.

Stored data keeps its codes (``at-risk``, ``breach``, ``high``); output shows
``term(code)``, the code's word in the current language. A code without a
catalogue entry (a name a user chose) is shown as it is.
"""

from __future__ import annotations

from typing import Any

from crmcore.i18n import N_, SOURCE_LANGUAGE, current_language, tr

TERMS = (
    # ticket priorities and states, complaint and request categories (demo data)
    N_("urgent"), N_("high"), N_("normal"), N_("low"),
    N_("new"), N_("open"), N_("waiting_on_customer"), N_("on_hold"), N_("resolved"),
    N_("closed"),
    N_("late delivery"), N_("product quality"), N_("billing error"), N_("service attitude"),
    N_("no follow-up"), N_("price"), N_("installation"), N_("training"), N_("spare parts"),
    N_("documentation"),
    # agenda action kinds (crmcore.policies.agenda.ActionKind)
    N_("breach"), N_("escalation"), N_("overdue"), N_("warning"), N_("problem"),
    N_("reminder"), N_("confirmation"), N_("promise"), N_("expiry"), N_("return_visit"),
    N_("contact"), N_("nurture"), N_("personal_message"), N_("greeting"), N_("ask_why"),
    N_("thank_you"),
    # escalation: task kinds, SLA clocks, roles, actions; contact channels; grades
    N_("ticket"), N_("commitment"), N_("contract"), N_("warranty"), N_("first response"),
    N_("resolution"), N_("owner"), N_("supervisor"), N_("manager"), N_("director"),
    N_("notify"), N_("escalate"), N_("transfer"), N_("ungraded"), N_("met"), N_("breached"),
    N_("on_track"),
    N_("phone"), N_("sms"), N_("email"), N_("website"), N_("fax"), N_("in_person"),
    N_("instant_message"), N_("post"),
    # demo appointments
    N_("maintenance visit"), N_("quarterly review"), N_("equipment"),
    N_("birthday"),
    # the customer lifecycle: stages and phases
    N_("identified"), N_("selected"), N_("developing"), N_("active"), N_("loyal"),
    N_("at-risk"), N_("churned"), N_("won-back"), N_("courtship"), N_("marriage"),
    N_("divorce"),
    # loyalty types (L4) and grading metrics
    N_("monopoly"), N_("convenience"), N_("potential"), N_("incentive"), N_("super-value"),
    N_("unknown"), N_("revenue"), N_("profit"), N_("complaints"), N_("satisfaction"),
    N_("recency_days"), N_("frequency"), N_("transaction"),
    # lifecycle entry fields and their values (L3, L4); retention cohorts
    N_("loyalty_type"), N_("churn_type"), N_("churn_cause"), N_("churn_reasons"),
    N_("churn_note"), N_("natural"), N_("malicious"), N_("competitive"), N_("negligence"),
    N_("value"), N_("system"), N_("employee"), N_("all"),
    # grade names of the shipped schemes
    N_("VIP"), N_("major"), N_("ordinary"), N_("small"), N_("Champions"), N_("Loyal"),
    N_("Can't lose"), N_("At risk"), N_("New"), N_("Potential loyalists"), N_("Promising"),
    N_("Need attention"), N_("About to sleep"), N_("Hibernating"),
    # sales pipeline (M1, M2): stages, lost reasons, demo territories and sources, factors
    N_("qualification"), N_("needs_analysis"), N_("proposal"), N_("negotiation"), N_("won"),
    N_("lost"), N_("competitor"), N_("no_budget"), N_("no_decision"), N_("timing"),
    N_("product_fit"), N_("relationship"), N_("other"), N_("industrial"), N_("consumer"),
    N_("public"), N_("referral"), N_("trade show"), N_("web"), N_("cold call"), N_("stage"),
    N_("source"), N_("territory"), N_("amount"), N_("days_in_stage"), N_("response_hours"),
    N_("grade"), N_("lifecycle_stage"),
    # grade labels of the shipped schemes (shown in explanations)
    N_("above average, but not very recent"), N_("all-out"),
    N_("below average recency and frequency"), N_("bought recently, buy often, spend the most"),
    N_("bought very recently, once"), N_("can close within 3 months"),
    N_("closes within 6 months once concerns are resolved"), N_("consider last, keep in touch"),
    N_("control the time invested"), N_("floating customers"), N_("gold: top 5% by value"),
    N_("hope within a year"), N_("large, spends on training, high reputation"),
    N_("long ago, little, seldom"), N_("mid-sized, spends, wants change"), N_("next 15%"),
    N_("next 20% by value"), N_("next 4%"),
    N_("no deal within a year, haggles, poor credit or low loyalty"),
    N_("recent, average frequency and spend"), N_("recent, have not spent much yet"),
    N_("spend good money, respond to us"), N_("spent and bought often, but long ago"),
    N_("the customers making the first 80% of value"), N_("the next 15% of value"),
    N_("the remaining 80%"), N_("the rest"), N_("top 1% by revenue"),
    N_("watch for change, keep in touch"), N_("were among the best, have not come back for long"),
    # the daily run (crmcore run): steps and what they report
    N_("grade"), N_("lifecycle"), N_("escalate"), N_("problems"), N_("agenda"), N_("deliver"),
    N_("scheme"), N_("customers"), N_("changed"), N_("moves"), N_("started"), N_("refused"),
    N_("applied"), N_("transferred"), N_("conflicts"), N_("opened"), N_("owners"),
    N_("items"), N_("delivered"), N_("failed"),
    # PDCA: phases, countermeasure states, verdicts, tests, measures
    N_("plan"), N_("do"), N_("check"), N_("act"), N_("planned"), N_("done"), N_("dropped"),
    N_("achieved"), N_("not-proven"), N_("missed"), N_("no-data"), N_("two-proportion z"),
    N_("Welch t"), N_("complaint_rate"), N_("csat"), N_("nps"), N_("CSAT (1-5)"),
    N_("complaint rate"), N_("return rate"), N_("reputation"), N_("awareness"),
    N_("sales power"),
    # texts the demo stores (its PDCA cycle)
    N_("Complaints and satisfaction"), N_("Too many customers complain"),
    N_("Satisfaction must not fall meanwhile"), N_("covered by cm-1"),
)
"""Every code shown through :func:`term` that has a word in the catalogues."""


def term(code: str) -> str:
    """The word for ``code`` in the current language (``code`` itself if it has none)."""
    return tr(code) if code else code


EVENT_WORDS = {"close": N_("closing"), "open": N_("opening"), "hold": N_("hold"),
               "reopen": N_("reopen"), "resolve": N_("resolve"), "resume": N_("resume"),
               "wait_on_customer": N_("wait on customer")}
"""Flow events whose word is not the code's own (``close`` is also the pipeline's close date,
``open`` a ticket state)."""


def event_term(event: str) -> str:
    """A flow event (``close``, ``revise_plan``) as a word in the current language (the
    code itself in English)."""
    if current_language() == SOURCE_LANGUAGE:
        return event
    return term(EVENT_WORDS.get(event, event))


def reason_label(code: str) -> str:
    """A churn reason code (L3) in words: the reason catalogue's Chinese label in zh_CN,
    else its English label."""
    from crmcore.lifecycle.taxonomy import ChurnTaxonomy  # the lifecycle imports this module

    taxonomy = ChurnTaxonomy()
    if current_language() == "zh_CN":
        chinese = next((r.label_zh for r in taxonomy.reasons if r.code == code), "")
        if chinese:
            return chinese
    return tr(taxonomy.label(code))


def field_text(key: str, value: Any) -> str:
    """A lifecycle entry field as people read it: ``churn_type=competitive`` (the stored
    value, as it is), in zh_CN ``流失类型=竞争流失`` (churn reasons by :func:`reason_label`)."""
    if current_language() == SOURCE_LANGUAGE:
        return f"{key}={value}"
    if key == "churn_reasons" and isinstance(value, list | tuple):
        shown = "、".join(reason_label(str(code)) for code in value)
    else:
        shown = term(value) if isinstance(value, str) else str(value)
    return f"{term(key)}={shown}"
