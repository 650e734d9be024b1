-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "compactedThrough" BIGINT NOT NULL DEFAULT 0;
