"""`GET /api/v1/reports/retention/`: GRR, NRR and logo churn by segment (API.md, "Renewals,
outcomes and retention"). Parses, asks ``authorization``, calls the service; no rule lives here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from csplatform import authorization

from .queries import DIMENSIONS
from .services import retention_report, validate_period


class RetentionRowSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True)
    renewals = serializers.IntegerField()
    arr_before = serializers.DecimalField(max_digits=16, decimal_places=2)
    arr_after = serializers.DecimalField(max_digits=16, decimal_places=2)
    grr = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        allow_null=True,
        help_text="Σ min(arr_after, arr_before) ÷ Σ arr_before",
    )
    nrr = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="Σ arr_after ÷ Σ arr_before"
    )
    logo_churn = serializers.DecimalField(max_digits=6, decimal_places=4, help_text="churned ÷ renewals")


class RetentionReportSerializer(serializers.Serializer):
    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "from": instance.date_from.isoformat(),
            "to": instance.date_to.isoformat(),
            "by": instance.by,
            "rows": RetentionRowSerializer(instance.rows, many=True).data,
            "total": RetentionRowSerializer(instance.total).data,
        }


class RetentionReportSchema(serializers.Serializer):
    """The retention report: the period, the dimension, one row per group with renewals, the total."""

    # ``from`` is a Python keyword, so the period's fields are added by name.

    by = serializers.ChoiceField(choices=DIMENSIONS)
    rows = RetentionRowSerializer(many=True)
    total = RetentionRowSerializer(help_text="Every row together; its group is null.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        return {"from": serializers.DateField(), "to": serializers.DateField(), **fields}


PERIOD_PARAMS = [
    OpenApiParameter("from", str, required=True, description="First renewal date counted (YYYY-MM-DD)."),
    OpenApiParameter("to", str, required=True, description="Last renewal date counted (YYYY-MM-DD)."),
    OpenApiParameter(
        "by", str, required=True, enum=list(DIMENSIONS), description="The dimension to group by."
    ),
]


class RetentionReportView(APIView):
    """GRR, NRR and logo churn of the renewals dated in [from, to], grouped by a dimension.

    CS Leadership and integrations read every account; a CSM the accounts they own; 400 names the
    bad parameter."""

    @extend_schema(parameters=PERIOD_PARAMS, responses={200: RetentionReportSchema})
    def get(self, request: Request) -> Response:
        if not authorization.may_read_retention(request.user):
            raise exceptions.PermissionDenied(
                "Retention is reported to CS Leadership, integrations and CSMs."
            )
        params = request.query_params
        date_from, date_to, by = validate_period(
            raw_from=params.get("from"), raw_to=params.get("to"), raw_by=params.get("by")
        )
        report = retention_report(user=request.user, date_from=date_from, date_to=date_to, by=by)
        return Response(RetentionReportSerializer(report).data)
