"""Read template.yaml like CloudFormation would, for the infrastructure tests.

`load_template` parses the CFN short-form tags (!Ref, !GetAtt, !Sub, !If, ...) into their
long form. `Evaluator` resolves the intrinsics the tests need (Ref to parameters and pseudo
parameters, Fn::If over Conditions, Fn::Sub, Fn::Equals/Not, AWS::NoValue) for a given set of
parameter values; a Ref or GetAtt to a resource resolves to a readable placeholder. Anything
else raises `UnsupportedIntrinsicError`, so a test never silently reads an unresolved value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"

NO_VALUE = object()
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "rebalance-executor-test",
}
_SUB_VAR = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


class UnsupportedIntrinsicError(ValueError):
    """An intrinsic function the evaluator does not model."""


def _construct_tag(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_Loader: Any = type("CfnLoader", (yaml.SafeLoader,), {})
_Loader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain dicts/lists with long-form intrinsics."""
    with path.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=_Loader)
    return loaded


def resources(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Logical id → resource for every resource of the given type."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


class Evaluator:
    """Resolves intrinsics for one set of parameter values (defaults unless overridden)."""

    def __init__(self, template: Mapping[str, Any], **overrides: str) -> None:
        params = template.get("Parameters", {})
        unknown = set(overrides) - set(params)
        if unknown:
            raise KeyError(f"not template parameters: {sorted(unknown)}")
        self._params = {k: str(overrides.get(k, p.get("Default", ""))) for k, p in params.items()}
        self._template = template

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self._template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self._ref(arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::If":
            name, then, otherwise = arg
            return self.resolve(then if self.condition(name) else otherwise)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if key == "Fn::Sub":
            return self._sub(arg)
        raise UnsupportedIntrinsicError(key)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self._params:
            return self._params[name]
        return f"<{name}>"

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: self.resolve(v) for k, v in local.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                return f"<{name}>"
            return str(self._ref(name))

        return _SUB_VAR.sub(replace, text)
