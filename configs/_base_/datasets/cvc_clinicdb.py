# CVC-ClinicDB (612 frames, TIFF release) with a seeded random train/val
# split. Convert the download first:
#   python tools/dataset_converters/cvc_clinicdb.py <CVC-ClinicDB folder> \
#       --out data/cvc_clinicdb --val-ratio 0.1
# Layout: data/cvc_clinicdb/images/*.png, masks/*.png (0/1),
# splits/{train,val}.txt - the Kvasir-SEG layout with PNG images, so this base
# only changes the root and the image suffix of kvasir_seg.py.
_base_ = ['./kvasir_seg.py']
data_root = 'data/cvc_clinicdb'
train_dataloader = dict(dataset=dict(data_root=data_root, img_suffix='.png'))
val_dataloader = dict(dataset=dict(data_root=data_root, img_suffix='.png'))
test_dataloader = val_dataloader
