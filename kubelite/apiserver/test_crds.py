"""The custom resource strategy's answers to the store's questions: upstream's
customResourceStrategy (apiextensions-apiserver pkg/registry/customresource)."""

from kubelite.apiserver.crds import CustomResourceStrategy


def test_custom_resources_need_a_resource_version_and_answer_deletes_with_a_status():
    strategy = CustomResourceStrategy(None, has_status=True)
    assert not strategy.allow_unconditional_update
    assert not strategy.allow_create_on_update
    assert not strategy.return_deleted_object
    assert not strategy.subresource_strategies()["status"].allow_unconditional_update


def test_custom_resources_take_subdomain_names():
    strategy = CustomResourceStrategy(None, has_status=False)
    assert strategy.validate_name("w1.example") == []
    assert strategy.validate_name("W1") != []
