"""The ``TfLite*Params`` struct TFLM's parser allocates for each builtin op.

micro_interpreter.cc ``PrepareNodeAndRegistrationDataFromFlatbuffer`` calls the parser the op
resolver registered for the op (tensorflow/lite/micro/micro_mutable_op_resolver.h: ``AddConv2D``
registers ``ParseConv2D``, ``AddMean`` ``ParseReducer``, ...). Each parser in
tensorflow/lite/core/api/flatbuffer_conversions.cc allocates its params struct unconditionally
(even when the op has no options table) through ``MicroBuiltinDataAllocator``, with
``alignof`` of the struct. Builtin ops not listed here parse to no data (``ParseAbs``,
``ParseQuantize``, ...). Custom ops keep their options in the flatbuffer.
"""

from __future__ import annotations

#: Builtin op name -> params struct name (a key of :mod:`arena.tail.abi`'s layouts).
BUILTIN_PARAMS: dict[str, str] = {
    "ADD": "TfLiteAddParams",
    "ARG_MAX": "TfLiteArgMaxParams",
    "ARG_MIN": "TfLiteArgMinParams",
    "AVERAGE_POOL_2D": "TfLitePoolParams",
    "BATCH_MATMUL": "TfLiteBatchMatMulParams",
    "CALL_ONCE": "TfLiteCallOnceParams",
    "CAST": "TfLiteCastParams",
    "CONCATENATION": "TfLiteConcatenationParams",
    "CONV_2D": "TfLiteConvParams",
    "CUMSUM": "TfLiteCumsumParams",
    "DEPTHWISE_CONV_2D": "TfLiteDepthwiseConvParams",
    "DEPTH_TO_SPACE": "TfLiteDepthToSpaceParams",
    "DIV": "TfLiteDivParams",
    "FULLY_CONNECTED": "TfLiteFullyConnectedParams",
    "GATHER": "TfLiteGatherParams",
    "IF": "TfLiteIfParams",
    "L2_NORMALIZATION": "TfLiteL2NormParams",
    "L2_POOL_2D": "TfLitePoolParams",
    "LEAKY_RELU": "TfLiteLeakyReluParams",
    "MAX_POOL_2D": "TfLitePoolParams",
    "MEAN": "TfLiteReducerParams",
    "MIRROR_PAD": "TfLiteMirrorPaddingParams",
    "MUL": "TfLiteMulParams",
    "PACK": "TfLitePackParams",
    "REDUCE_ALL": "TfLiteReducerParams",
    "REDUCE_MAX": "TfLiteReducerParams",
    "REDUCE_MIN": "TfLiteReducerParams",
    "RESHAPE": "TfLiteReshapeParams",
    "RESIZE_BILINEAR": "TfLiteResizeBilinearParams",
    "RESIZE_NEAREST_NEIGHBOR": "TfLiteResizeNearestNeighborParams",
    "SHAPE": "TfLiteShapeParams",
    "SOFTMAX": "TfLiteSoftmaxParams",
    "SPACE_TO_DEPTH": "TfLiteSpaceToDepthParams",
    "SPLIT": "TfLiteSplitParams",
    "SPLIT_V": "TfLiteSplitVParams",
    "SQUEEZE": "TfLiteSqueezeParams",
    "STRIDED_SLICE": "TfLiteStridedSliceParams",
    "SUB": "TfLiteSubParams",
    "SUM": "TfLiteReducerParams",
    "SVDF": "TfLiteSVDFParams",
    "TRANSPOSE_CONV": "TfLiteTransposeConvParams",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "TfLiteUnidirectionalSequenceLSTMParams",
    "UNPACK": "TfLiteUnpackParams",
    "VAR_HANDLE": "TfLiteVarHandleParams",
    "WHILE": "TfLiteWhileParams",
}
