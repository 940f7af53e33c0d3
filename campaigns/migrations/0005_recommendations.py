# Recommendations: picks per customer and kind, and the shared tables they are computed from.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0004_promo'),
        ('customers', '0010_product_url_image'),
    ]

    operations = [
        migrations.CreateModel(
            name='CategoryPick',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(max_length=255)),
                ('currency', models.CharField(blank=True, help_text="The products' market.", max_length=3)),
                ('kind', models.CharField(choices=[('bought_together', 'Bought together'), ('popular', 'Popular in your categories'), ('viewed', 'Viewed, not bought'), ('new', 'New in a favourite category')], max_length=20)),
                ('score', models.FloatField()),
                ('rank', models.PositiveSmallIntegerField()),
                ('product', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.product')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('category', 'currency', 'kind', 'rank'), name='category_pick_category_kind_rank')],
            },
        ),
        migrations.CreateModel(
            name='CoPurchasePair',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('orders', models.PositiveIntegerField(help_text='Orders holding both products.')),
                ('rank', models.PositiveSmallIntegerField()),
                ('other', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.product')),
                ('product', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.product')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('product', 'rank'), name='copurchase_product_rank')],
            },
        ),
        migrations.CreateModel(
            name='Recommendation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('bought_together', 'Bought together'), ('popular', 'Popular in your categories'), ('viewed', 'Viewed, not bought'), ('new', 'New in a favourite category')], max_length=20)),
                ('rank', models.PositiveSmallIntegerField()),
                ('score', models.FloatField()),
                ('computed_at', models.DateTimeField()),
                ('customer', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='recommendations', to='customers.customer')),
                ('product', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.product')),
            ],
            options={
                'indexes': [models.Index(fields=['product'], name='recommendation_product')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'kind', 'rank'), name='recommendation_customer_kind_rank')],
            },
        ),
        migrations.CreateModel(
            name='RecommendationRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField()),
                ('pairs', models.PositiveIntegerField(default=0)),
                ('counts', models.JSONField(default=dict, help_text='{kind: picks written}')),
                ('customer', models.ForeignKey(blank=True, db_constraint=False, help_text='Empty for a refresh of everyone.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['-started_at'], name='recommendation_run_recent')],
            },
        ),
    ]
