"""The file MLflow runs to load the logged model ("models from code": nothing is unpickled).

MLflow copies this file into the model and executes it at load time; the package itself is
shipped beside it (``code_paths``), so the served model runs this project's own code.
"""

import mlflow

from {{ cookiecutter.package_name }}.serving.predictor import (
    PyfuncModel,
)

mlflow.models.set_model(PyfuncModel())
