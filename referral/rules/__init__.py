"""The pure rules core of Ruta: screening, eligibility, routing, gaps and alerts.

Imports neither Flask nor the database and does no I/O: callers load the seed files and
the directory, build a Catalogue, and route validated screening records against it.
"""

from .catalogue import Catalogue, ConstraintGroup, LanguageTable, build_catalogue
from .errors import N_, ErrorMessage, RecordInvalid, SeedError, SeedErrors, render_errors
from .record import Companion, ScreeningRecord, validate_record
from .result import NeedLine, Option, RaisedAlert, RoutingGap, RoutingResult, WhyItFits
from .routing import alert_codes, auto_needs, confirm_items, eligibility_reasons, route_case
from .screening import Screening
from .seeds import (
    CodeLists,
    Indicator,
    RuleSeeds,
    indicators_from_answers,
    parse_rule_seeds,
    seeds_digest,
)
from .services import Service, parse_services

__all__ = [
    "N_",
    "Catalogue",
    "CodeLists",
    "Companion",
    "ConstraintGroup",
    "ErrorMessage",
    "Indicator",
    "LanguageTable",
    "NeedLine",
    "Option",
    "RaisedAlert",
    "RecordInvalid",
    "RoutingGap",
    "RoutingResult",
    "RuleSeeds",
    "Screening",
    "ScreeningRecord",
    "SeedError",
    "SeedErrors",
    "Service",
    "WhyItFits",
    "alert_codes",
    "auto_needs",
    "build_catalogue",
    "confirm_items",
    "eligibility_reasons",
    "indicators_from_answers",
    "parse_rule_seeds",
    "parse_services",
    "render_errors",
    "route_case",
    "seeds_digest",
    "validate_record",
]
