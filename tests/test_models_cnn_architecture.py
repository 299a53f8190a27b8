"""Each CNN against its paper, by the layers of the built keras.Model (MNIST-sized input, 10 classes)."""

import pytest

from models import cnn

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

INPUT = (28, 28, 1)


def _layers(make_model, **options):
    model = make_model(INPUT, 10, width=8, **options)
    return model, model.layers


def _convolutions(model_layers):
    # SeparableConv2D and DepthwiseConv2D are not Conv2D subclasses in Keras 3; plain convolutions only.
    return [layer for layer in model_layers if type(layer) is layers.Conv2D]


def test_all_cnn_c_has_no_pooling_layers():
    # Springenberg et al. 2015: max pooling replaced by 3x3 convolutions of stride 2; the only
    # averaging left is the global one over the class maps at the top.
    model, model_layers = _layers(cnn.make_all_conv_cnn)
    pooling = [layer for layer in model_layers if isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D))]
    assert pooling == []
    strided = [
        layer for layer in _convolutions(model_layers) if layer.strides == (2, 2) and layer.kernel_size == (3, 3)
    ]
    assert len(strided) == 2  # one per down-sampling stage of a 28x28 input
    assert not any(isinstance(layer, layers.Dense) for layer in model_layers)
    assert isinstance(model_layers[-2], layers.GlobalAveragePooling2D)


def test_convpool_cnn_c_pools_where_all_cnn_c_strides():
    model, model_layers = _layers(cnn.make_convpool_cnn)
    pools = [layer for layer in model_layers if isinstance(layer, layers.MaxPooling2D)]
    assert len(pools) == 2 and all(layer.pool_size == (3, 3) and layer.strides == (2, 2) for layer in pools)
    assert all(layer.strides == (1, 1) for layer in _convolutions(model_layers))


def test_nin_has_1x1_convolutions_and_a_global_average_pooling_head_without_dense_layers():
    # Lin et al. 2013: mlpconv blocks (a spatial convolution, then 1x1 ones), class maps, global average pooling.
    model, model_layers = _layers(cnn.make_nin_cnn)
    one_by_one = [layer for layer in _convolutions(model_layers) if layer.kernel_size == (1, 1)]
    assert len(one_by_one) >= 5  # two per mlpconv block, one more at the top, and the class maps
    assert not any(isinstance(layer, layers.Dense) for layer in model_layers)
    # The head: 1x1 convolution to 10 class maps, global average pooling, softmax.
    class_maps, pooling, activation = model_layers[-3:]
    assert isinstance(class_maps, layers.Conv2D) and class_maps.kernel_size == (1, 1) and class_maps.filters == 10
    assert isinstance(pooling, layers.GlobalAveragePooling2D)
    assert isinstance(activation, layers.Activation) and activation.activation.__name__ == "softmax"


def test_bn_cnn_has_batch_normalisation_he_normal_initialisation_and_dropout():
    model, model_layers = _layers(cnn.make_batchnorm_cnn)
    convolutions = _convolutions(model_layers)
    assert len(convolutions) == 6  # three stages of two for a 28x28 input
    batch_norms = [layer for layer in model_layers if isinstance(layer, layers.BatchNormalization)]
    assert len(batch_norms) == len(convolutions) + 1  # after every convolution and the dense layer
    weighted = [*convolutions, *(layer for layer in model_layers if isinstance(layer, layers.Dense))][:-1]
    assert all(isinstance(layer.kernel_initializer, keras.initializers.HeNormal) for layer in weighted)
    dropouts = [layer.rate for layer in model_layers if isinstance(layer, layers.Dropout)]
    assert dropouts == [0.2, 0.2, 0.4]


def test_separable_cnn_uses_depthwise_separable_convolutions():
    model, model_layers = _layers(cnn.make_separable_cnn)
    separable = [layer for layer in model_layers if isinstance(layer, layers.SeparableConv2D)]
    assert len(separable) == 5  # two per stage and one at the top
    # A separable convolution is a depthwise kernel (one 3x3 filter per input channel) and a
    # 1x1 pointwise kernel: far fewer weights than a full convolution of the same shape.
    first = separable[0]
    depthwise, pointwise = first.depthwise_kernel.shape, first.pointwise_kernel.shape
    assert depthwise[:2] == (3, 3) and depthwise[3] == 1 and pointwise[:2] == (1, 1)
    # Only the entry block and the residual projections are plain convolutions.
    assert [layer.kernel_size for layer in _convolutions(model_layers)] == [(3, 3), (1, 1), (1, 1)]


@pytest.mark.parametrize(
    ("gpu", "width", "epochs"), [(False, cnn.cpu_large_width, cnn.cpu_large_epochs), (True, None, cnn.gpu_large_epochs)]
)
def test_the_plan_follows_the_device(gpu, width, epochs):
    plan = cnn.training_plan(INPUT, gpu=gpu)
    assert (plan.device, plan.width, plan.epochs) == ("GPU" if gpu else "CPU", width, epochs)
    # Small images keep the zoo's defaults on either device; --epochs overrides any plan.
    assert cnn.training_plan((8, 8, 1), gpu=gpu).width is None
    assert cnn.training_plan(INPUT, gpu=gpu, epochs_override=3).epochs == 3
