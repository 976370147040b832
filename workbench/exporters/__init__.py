"""Exporters of run folders to other tools: MLflow (`workbench export mlflow`)."""
