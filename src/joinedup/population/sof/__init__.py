"""SQL on FHIR v2: ViewDefinitions compiled to one SQL query per view, run on DuckDB or Spark."""

from .fhirpath import FhirPathError
from .views import CompiledView, ViewDefinitionError, compile_view

__all__ = ["CompiledView", "FhirPathError", "ViewDefinitionError", "compile_view"]
